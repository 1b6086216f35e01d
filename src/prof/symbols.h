// The kernel's function symbols, from its own ELF .symtab/.strtab (which
// GRUB loads beside the image): validated once, sorted by address into a
// compact table, then looked up by binary search so panics, backtraces and
// profiles can print `function+0xoff`. Pure logic, host-tested; the kernel's
// one table is kernel_symbols.h.
//
// Contexts: find_symtab/count/build allocate nothing themselves (the caller
// gives the storage) and run once, in thread context at boot. lookup() takes
// no lock, allocates nothing and only reads: callable from any context, NMI
// included, once the table is built and published.
#pragma once

#include "src/arch/elf.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"

namespace prof {

/// What a lookup found: the symbol covering a pc.
struct SymbolRef {
  const char* name;  ///< NUL-terminated, inside the string table
  uint64_t start;    ///< the symbol's address
  uint64_t offset;   ///< pc - start
  uint64_t size;     ///< bytes it covers (see SymbolTable::build)
};

/// One entry of the sorted table (24 bytes; the kernel has ~1,500).
struct SymbolEntry {
  uint64_t addr;
  uint32_t size;     ///< bytes covered; 0 only while building
  uint32_t name;     ///< offset in the string table
  uint16_t section;  ///< st_shndx (while building: for labels' ends)
  uint8_t rank;      ///< alias preference while building: lower wins
};

/// Why the tables were refused: a static reason, and where (the symbol or
/// section index) and what (the offending value), for one clear line:
///   "prof: symbols: {what} (index {index}, value {value:#x})".
struct SymbolsError {
  const char* what = nullptr;
  uint64_t index = 0;
  uint64_t value = 0;
};

/// The symbol table section and the string table its sh_link names.
struct SymtabSections {
  uint32_t symtab_index;
  uint32_t strtab_index;
  arch::elf::SectionHeader symtab;
  arch::elf::SectionHeader strtab;
};

/// Finds the one SHT_SYMTAB section and its string table. Checks: exactly
/// one SHT_SYMTAB; its entry size is sizeof(Elf64_Sym) and its size a
/// multiple of it; sh_link names a section in range, of type SHT_STRTAB,
/// nonempty. On failure returns kMalformed (kNotFound for no symbol table:
/// a stripped kernel) and fills `*error` if not null.
base::Result<SymtabSections> find_symtab(const arch::elf::SectionTable& sections, SymbolsError* error);

/// The sorted function table over the caller's storage; read-only once
/// built. Copyable (a view: the storage and the string table must outlive
/// it).
class SymbolTable {
 public:
  constexpr SymbolTable() = default;

  /// How many entries build() needs in its storage: the symbols it keeps
  /// before aliases are merged. Validates exactly as build() does.
  static base::Result<size_t> count(const arch::elf::SectionTable& sections, const SymtabSections& where,
                                    base::Span<const uint8_t> symtab, base::Span<const uint8_t> strtab,
                                    SymbolsError* error);

  /// Validates the symbols and builds the table in `storage` (at least
  /// count() entries) in O(n log n). `symtab` and `strtab` are the two
  /// sections' bytes (sh_size each). Keeps STT_FUNC and STT_NOTYPE symbols
  /// (assembly entry points such as trap_common are untyped labels) with a
  /// name, a nonzero address, and a section that is allocated and
  /// executable; others (data, files, sections, absolute and undefined
  /// symbols) are skipped. Rejects (kMalformed, `*error` filled) a symbol
  /// whose section index is out of range, that lies outside its section,
  /// whose name offset is outside the string table or whose name has no NUL
  /// before the table's end, or larger than 4 GiB.
  ///
  /// What a symbol covers: a sized symbol [addr, addr + st_size); an
  /// unsized one (a label) up to the next kept symbol or its section's end.
  /// Aliases (several symbols at one address) become one entry, named by
  /// preference: STT_FUNC over STT_NOTYPE, then global over weak over
  /// local, then the larger, then the first in the string table. A label
  /// inside a sized function (a named point within it) is dropped, so the
  /// function keeps covering it. Entries that cover nothing are dropped.
  static base::Result<SymbolTable> build(const arch::elf::SectionTable& sections, const SymtabSections& where,
                                         base::Span<const uint8_t> symtab, base::Span<const uint8_t> strtab,
                                         base::Span<SymbolEntry> storage, SymbolsError* error);

  /// The symbol covering `pc`: false before the first symbol, past the end
  /// of the one below it (padding between functions, or code no symbol
  /// names), or in an empty table. Any context; no locks, no allocation.
  bool lookup(uint64_t pc, SymbolRef* out) const;

  /// For a return address from a backtrace: the call is the instruction
  /// before `ret_pc`, so the symbol is looked up at ret_pc - 1 (a call that
  /// ends a function, e.g. to a noreturn one, returns past its end) and the
  /// offset is still ret_pc's. Any context.
  bool lookup_return_address(uint64_t ret_pc, SymbolRef* out) const;

  size_t size() const { return count_; }
  const SymbolEntry& operator[](size_t i) const { return entries_[i]; }

 private:
  const SymbolEntry* entries_ = nullptr;
  size_t count_ = 0;
  const char* strtab_ = nullptr;
};

}  // namespace prof
