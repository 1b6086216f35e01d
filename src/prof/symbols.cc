// See symbols.h.
#include "src/prof/symbols.h"

namespace prof {
namespace {

using arch::elf::SectionHeader;
using arch::elf::SectionTable;

// st_info's halves ([elf] 4, "Symbol Table").
constexpr uint8_t kSttNotype = 0;
constexpr uint8_t kSttFunc = 2;
constexpr uint8_t kStbLocal = 0;
constexpr uint8_t kStbGlobal = 1;
constexpr uint8_t kStbWeak = 2;

struct ElfSymbol {
  uint32_t name;
  uint8_t type;
  uint8_t bind;
  uint32_t shndx;
  uint64_t value;
  uint64_t size;
};

ElfSymbol read_symbol(const uint8_t* p) {
  return ElfSymbol{
      .name = arch::elf::load_u32(p + 0),
      .type = static_cast<uint8_t>(p[4] & 0xf),
      .bind = static_cast<uint8_t>(p[4] >> 4),
      .shndx = arch::elf::load_u16(p + 6),
      .value = arch::elf::load_u64(p + 8),
      .size = arch::elf::load_u64(p + 16),
  };
}

base::Error fail(SymbolsError* error, const char* what, uint64_t index, uint64_t value,
                 base::Error code = base::Error::kMalformed) {
  if (error != nullptr) *error = SymbolsError{what, index, value};
  return code;
}

// Whether the name at `offset` lies in the string table and ends there.
bool name_ok(base::Span<const uint8_t> strtab, uint32_t offset) {
  for (size_t i = offset; i < strtab.size(); ++i) {
    if (strtab[i] == 0) return true;
  }
  return false;
}

// Lower wins among aliases: functions over labels, then global, weak, local.
uint8_t rank_of(const ElfSymbol& s) {
  const uint8_t bind = s.bind == kStbGlobal ? 0 : (s.bind == kStbWeak ? 1 : 2);
  return static_cast<uint8_t>((s.type == kSttFunc ? 0 : 4) + bind);
}

// Validates every symbol and, when `out` is not null, writes the kept ones
// there (at most `cap`). Returns how many are kept.
base::Result<size_t> scan(const SectionTable& sections, const SymtabSections& where, base::Span<const uint8_t> symtab,
                          base::Span<const uint8_t> strtab, SymbolEntry* out, size_t cap, SymbolsError* error) {
  if (symtab.size() != where.symtab.size) {
    return fail(error, "symbol table bytes given differ from its sh_size", where.symtab_index, symtab.size());
  }
  if (strtab.size() != where.strtab.size) {
    return fail(error, "string table bytes given differ from its sh_size", where.strtab_index, strtab.size());
  }
  const size_t n = symtab.size() / arch::elf::kSymbolSize;
  // A string table ends in NUL ([elf] 4, "String Table"); then every name
  // inside it ends too, and no name needs its own scan (which, over ~3,000
  // symbols and their mangled names, was most of a millisecond of boot).
  const bool every_name_ends = !strtab.empty() && strtab[strtab.size() - 1] == 0;
  size_t kept = 0;
  // Symbol 0 is the undefined symbol, all zeros ([elf] 4, "Symbol Table").
  for (size_t i = 1; i < n; ++i) {
    const ElfSymbol s = read_symbol(symtab.data() + i * arch::elf::kSymbolSize);
    if (s.name != 0 && s.name >= strtab.size()) return fail(error, "symbol name outside the string table", i, s.name);
    if (s.name != 0 && !every_name_ends && !name_ok(strtab, s.name)) {
      return fail(error, "symbol name not NUL-terminated", i, s.name);
    }
    if (s.type != kSttFunc && s.type != kSttNotype) continue;
    if (s.bind != kStbLocal && s.bind != kStbGlobal && s.bind != kStbWeak) continue;
    if (s.shndx == 0 || s.shndx >= arch::elf::kShnLoReserve) continue;  // undefined, absolute, common
    if (s.shndx >= sections.size()) return fail(error, "symbol's section index out of range", i, s.shndx);
    const SectionHeader sec = sections[s.shndx];
    const uint64_t needed = arch::elf::kShfAlloc | arch::elf::kShfExecinstr;
    if ((sec.flags & needed) != needed || s.value == 0 || s.name == 0) continue;
    const uint64_t sec_end = sec.addr + sec.size;
    if (sec_end < sec.addr || s.value < sec.addr || s.value > sec_end || s.size > sec_end - s.value) {
      return fail(error, "symbol lies outside its section", i, s.value);
    }
    if (s.size > 0xffff'ffff) return fail(error, "symbol larger than 4 GiB", i, s.size);
    if (out != nullptr) {
      if (kept == cap) return fail(error, "storage smaller than count()", i, cap, base::Error::kInvalidArgument);
      out[kept] = SymbolEntry{.addr = s.value,
                              .size = static_cast<uint32_t>(s.size),
                              .name = s.name,
                              .section = static_cast<uint16_t>(s.shndx),
                              .rank = rank_of(s)};
    }
    ++kept;
  }
  return kept;
}

// By address, then best alias first (rank, larger, earlier name).
bool before(const SymbolEntry& a, const SymbolEntry& b) {
  if (a.addr != b.addr) return a.addr < b.addr;
  if (a.rank != b.rank) return a.rank < b.rank;
  if (a.size != b.size) return a.size > b.size;
  return a.name < b.name;
}

// Heapsort: O(n log n), in place, no recursion and no allocation.
void sift_down(SymbolEntry* e, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && before(e[child], e[child + 1])) ++child;
    if (!before(e[root], e[child])) return;
    const SymbolEntry t = e[root];
    e[root] = e[child];
    e[child] = t;
    root = child;
  }
}

void sort_entries(SymbolEntry* e, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift_down(e, i, n);
  for (size_t end = n; end > 1; --end) {
    const SymbolEntry t = e[0];
    e[0] = e[end - 1];
    e[end - 1] = t;
    sift_down(e, 0, end - 1);
  }
}

}  // namespace

base::Result<SymtabSections> find_symtab(const SectionTable& sections, SymbolsError* error) {
  SymtabSections w{};
  bool found = false;
  for (uint32_t i = 0; i < sections.size(); ++i) {
    const SectionHeader sh = sections[i];
    if (sh.type != arch::elf::kShtSymtab) continue;
    if (found) return fail(error, "more than one SHT_SYMTAB section", i, w.symtab_index);
    found = true;
    w.symtab_index = i;
    w.symtab = sh;
  }
  if (!found)
    return fail(error, "no SHT_SYMTAB section (a stripped kernel?)", 0, sections.size(), base::Error::kNotFound);
  if (w.symtab.entsize != arch::elf::kSymbolSize) {
    return fail(error, "symbol table entry size is not sizeof(Elf64_Sym)", w.symtab_index, w.symtab.entsize);
  }
  if (w.symtab.size % arch::elf::kSymbolSize != 0) {
    return fail(error, "symbol table size is not a multiple of its entry size", w.symtab_index, w.symtab.size);
  }
  if (w.symtab.link == 0 || w.symtab.link >= sections.size()) {
    return fail(error, "symbol table's sh_link names no section", w.symtab_index, w.symtab.link);
  }
  w.strtab_index = w.symtab.link;
  w.strtab = sections[w.strtab_index];
  if (w.strtab.type != arch::elf::kShtStrtab) {
    return fail(error, "symbol table's sh_link is not an SHT_STRTAB section", w.strtab_index, w.strtab.type);
  }
  if (w.strtab.size == 0) return fail(error, "empty string table", w.strtab_index, 0);
  return w;
}

base::Result<size_t> SymbolTable::count(const SectionTable& sections, const SymtabSections& where,
                                        base::Span<const uint8_t> symtab, base::Span<const uint8_t> strtab,
                                        SymbolsError* error) {
  return scan(sections, where, symtab, strtab, nullptr, 0, error);
}

base::Result<SymbolTable> SymbolTable::build(const SectionTable& sections, const SymtabSections& where,
                                             base::Span<const uint8_t> symtab, base::Span<const uint8_t> strtab,
                                             base::Span<SymbolEntry> storage, SymbolsError* error) {
  base::Result<size_t> kept = scan(sections, where, symtab, strtab, storage.data(), storage.size(), error);
  if (!kept.ok()) return kept.error();
  SymbolEntry* e = storage.data();
  const size_t n = kept.value();
  sort_entries(e, n);

  // One entry per address (the best alias sorts first), and no label
  // inside a sized function.
  size_t w = 0;
  uint64_t sized_end = 0;
  for (size_t r = 0; r < n; ++r) {
    if (w > 0 && e[w - 1].addr == e[r].addr) continue;
    if (e[r].size == 0 && e[r].addr < sized_end) continue;
    e[w++] = e[r];
    if (e[r].size != 0 && e[r].addr + e[r].size > sized_end) sized_end = e[r].addr + e[r].size;
  }

  // Labels cover up to the next symbol or their section's end; what then
  // covers nothing (a label at a section's end) goes.
  size_t out = 0;
  for (size_t i = 0; i < w; ++i) {
    SymbolEntry x = e[i];
    if (x.size == 0) {
      const SectionHeader sec = sections[x.section];
      uint64_t end = sec.addr + sec.size;
      if (i + 1 < w && e[i + 1].addr < end) end = e[i + 1].addr;
      const uint64_t span = end - x.addr;
      x.size = span > 0xffff'ffff ? 0xffff'ffff : static_cast<uint32_t>(span);
    }
    if (x.size != 0) e[out++] = x;
  }

  SymbolTable t;
  t.entries_ = e;
  t.count_ = out;
  t.strtab_ = reinterpret_cast<const char*>(strtab.data());
  return t;
}

bool SymbolTable::lookup(uint64_t pc, SymbolRef* out) const {
  // The first entry above pc; the one before it is the candidate.
  size_t lo = 0;
  size_t hi = count_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (entries_[mid].addr <= pc) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return false;
  const SymbolEntry& e = entries_[lo - 1];
  if (pc - e.addr >= e.size) return false;
  *out = SymbolRef{strtab_ + e.name, e.addr, pc - e.addr, e.size};
  return true;
}

bool SymbolTable::lookup_return_address(uint64_t ret_pc, SymbolRef* out) const {
  if (ret_pc == 0 || !lookup(ret_pc - 1, out)) return false;
  out->offset += 1;
  return true;
}

}  // namespace prof
