// Fuzz target for the ELF section table and the symbol table builder
// (tools/fuzz.bzl), seeded with the kernel's own section headers, .symtab
// and .strtab (fuzz_corpus/symbols, tools/fuzz/make_seeds.py). The input
// is an ELF file; like the kernel, which gets the section headers from the
// boot loader and the tables where GRUB loaded them, the harness hands the
// parsers only bytes inside the file. Checked beyond "no crash": count()
// and build() agree; the table is sorted, one entry per address and has no
// empty entry; names are NUL-terminated inside .strtab; lookups find exactly the
// entry covering a pc.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "src/arch/elf.h"
#include "src/base/testing/fuzz_check.h"
#include "src/prof/symbols.h"

namespace {

using arch::elf::SectionTable;
using prof::SymbolEntry;
using prof::SymbolRef;
using prof::SymbolsError;
using prof::SymbolTable;

struct File {
  const uint8_t* data;
  size_t size;
  // [offset, offset + len) of the file, or an empty span when not inside.
  bool slice(uint64_t offset, uint64_t len, base::Span<const uint8_t>* out) const {
    if (offset > size || len > size - offset) return false;
    *out = base::Span<const uint8_t>(data + offset, len);
    return true;
  }
};

// What lookup() promises, by linear search: the last entry at or below pc
// if it covers pc, else nothing. (Entries may overlap when a malformed
// table has overlapping sized functions; a pc then belongs to the nearest
// one below it, as the binary search finds.)
const SymbolEntry* covering(const SymbolTable& t, uint64_t pc) {
  const SymbolEntry* below = nullptr;
  for (size_t i = 0; i < t.size() && t[i].addr <= pc; ++i) below = &t[i];
  return below != nullptr && pc - below->addr < below->size ? below : nullptr;
}

void check_lookup(const SymbolTable& t, base::Span<const uint8_t> strtab, uint64_t pc) {
  SymbolRef ref;
  const SymbolEntry* want = covering(t, pc);
  const bool found = t.lookup(pc, &ref);
  FUZZ_CHECK(found == (want != nullptr));
  if (!found) return;
  FUZZ_CHECK(ref.start == want->addr && ref.size == want->size && ref.offset == pc - want->addr);
  const auto* name = reinterpret_cast<const uint8_t*>(ref.name);
  FUZZ_CHECK(name >= strtab.data() && name < strtab.data() + strtab.size());
  FUZZ_CHECK(std::memchr(name, 0, strtab.data() + strtab.size() - name) != nullptr);
}

void check_table(const SymbolTable& t, base::Span<const uint8_t> strtab) {
  for (size_t i = 0; i < t.size(); ++i) {
    const SymbolEntry& e = t[i];
    FUZZ_CHECK(e.size > 0);
    FUZZ_CHECK(e.addr + e.size - 1 >= e.addr);  // does not wrap
    FUZZ_CHECK(e.name < strtab.size());
    if (i > 0) FUZZ_CHECK(t[i - 1].addr < e.addr);  // sorted; aliases merged
  }
  // The first, last and next byte of a sample of entries, and below the first.
  const size_t step = t.size() / 64 + 1;
  for (size_t i = 0; i < t.size(); i += step) {
    const SymbolEntry& e = t[i];
    check_lookup(t, strtab, e.addr);
    check_lookup(t, strtab, e.addr + e.size - 1);
    check_lookup(t, strtab, e.addr + e.size);
    if (e.addr > 0) check_lookup(t, strtab, e.addr - 1);
    // A return address is looked up one byte back, its offset kept.
    const uint64_t ret = e.addr + e.size;
    const SymbolEntry* want = covering(t, ret - 1);
    SymbolRef ref;
    FUZZ_CHECK(t.lookup_return_address(ret, &ref) == (want != nullptr));
    if (want != nullptr) FUZZ_CHECK(ref.start == want->addr && ref.offset == ret - want->addr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 64) return 0;  // an Elf64_Ehdr
  // An exactly-sized copy: ASan flags any read past the file.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size]);
  std::memcpy(copy.get(), data, size);
  const File file{copy.get(), size};
  const uint64_t shoff = arch::elf::load_u64(file.data + 0x28);
  const uint32_t shentsize = arch::elf::load_u16(file.data + 0x3a);
  const uint32_t shnum = arch::elf::load_u16(file.data + 0x3c);
  base::Span<const uint8_t> headers;
  if (!file.slice(shoff, uint64_t{shnum} * shentsize, &headers)) return 0;

  const char* why = nullptr;
  auto sections = SectionTable::from(shnum, shentsize, headers, &why);
  if (!sections.ok()) {
    FUZZ_CHECK(why != nullptr);
    return 0;
  }
  FUZZ_CHECK(sections.value().size() == shnum);
  for (uint32_t i = 0; i < sections.value().size(); ++i) {
    (void)arch::elf::loaded_by_loader(sections.value()[i]);
  }

  SymbolsError err;
  auto where = prof::find_symtab(sections.value(), &err);
  if (!where.ok()) {
    FUZZ_CHECK(err.what != nullptr);
    return 0;
  }
  const prof::SymtabSections& w = where.value();
  FUZZ_CHECK(w.symtab_index < shnum && w.strtab_index < shnum);
  base::Span<const uint8_t> symtab, strtab;
  if (!file.slice(w.symtab.offset, w.symtab.size, &symtab)) return 0;
  if (!file.slice(w.strtab.offset, w.strtab.size, &strtab)) return 0;

  SymbolsError count_err;
  auto count = SymbolTable::count(sections.value(), w, symtab, strtab, &count_err);
  std::vector<SymbolEntry> storage(count.ok() ? count.value() : 0);
  auto table = SymbolTable::build(sections.value(), w, symtab, strtab,
                                  base::Span<SymbolEntry>(storage.data(), storage.size()), &err);
  FUZZ_CHECK(count.ok() == table.ok());  // "validates exactly as build() does"
  if (!table.ok()) {
    FUZZ_CHECK(err.what != nullptr && count_err.what != nullptr);
    return 0;
  }
  FUZZ_CHECK(table.value().size() <= count.value());
  check_table(table.value(), strtab);
  return 0;
}
