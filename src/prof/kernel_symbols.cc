// See kernel_symbols.h.
#include "src/prof/kernel_symbols.h"

#include "src/prof/demangle.h"

#include "src/arch/console.h"
#include "src/arch/elf.h"
#include "src/base/atomic.h"
#include "src/base/format.h"
#include "src/mm/direct_map.h"
#include "src/mm/kmalloc.h"
#include "src/mm/safe_access.h"

namespace prof {
namespace {

constinit SymbolTable table{};
// Set once the table is complete: the release store publishes its entries,
// the readers' acquire load (any CPU, any context) sees them whole.
constinit base::Atomic<const SymbolTable*> published{nullptr};

void say_none(const char* why) { arch::kprint("prof: symbols: none: {}\n", why); }

// The bytes of a section GRUB loaded, through the direct map; empty when
// its address is not a physical one below the image or a page of it cannot
// be read (the loader reported memory the direct map does not cover).
base::Span<const uint8_t> loaded_bytes(const arch::elf::SectionHeader& sh) {
  if (!arch::elf::loaded_by_loader(sh) || sh.addr >= mm::kKernelImageBase) return {};
  const uint64_t va = reinterpret_cast<uint64_t>(mm::phys_to_virt(base::PhysAddr(sh.addr)));
  for (uint64_t a = va & ~uint64_t{base::kPageSize - 1}; a < va + sh.size; a += base::kPageSize) {
    if (!mm::safe_read8(base::VirtAddr(a < va ? va : a)).ok()) return {};
  }
  return base::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(va), sh.size);
}

}  // namespace

void symbols_init(const arch::mb2::ElfSections& elf) {
  if (elf.num == 0) return say_none("the boot loader passed no ELF section headers");
  const char* why = nullptr;
  auto sections = arch::elf::SectionTable::from(elf.num, elf.entsize, elf.headers, &why);
  if (!sections.ok()) return say_none(why);
  SymbolsError err;
  auto where = find_symtab(sections.value(), &err);
  if (!where.ok()) {
    arch::kprint("prof: symbols: none: {} (section {}, value {:#x})\n", err.what, err.index, err.value);
    return;
  }
  const base::Span<const uint8_t> symtab = loaded_bytes(where.value().symtab);
  const base::Span<const uint8_t> strtab = loaded_bytes(where.value().strtab);
  if (symtab.empty() || strtab.empty()) {
    arch::kprint("prof: symbols: none: the symbol or string table is not in loaded memory (at {:#x}, {:#x})\n",
                 where.value().symtab.addr, where.value().strtab.addr);
    return;
  }
  auto n = SymbolTable::count(sections.value(), where.value(), symtab, strtab, &err);
  SymbolEntry* storage = nullptr;
  if (n.ok() && n.value() != 0) {
    storage = static_cast<SymbolEntry*>(mm::kmalloc(n.value() * sizeof(SymbolEntry)));
    if (storage == nullptr) {
      arch::kprint("prof: symbols: none: no memory for {} entries\n", n.value());
      return;
    }
  }
  auto built = n.ok() ? SymbolTable::build(sections.value(), where.value(), symtab, strtab,
                                           base::Span<SymbolEntry>(storage, n.value()), &err)
                      : base::Result<SymbolTable>(n.error());
  if (!built.ok()) {
    mm::kfree(storage);
    arch::kprint("prof: symbols: none: {} (symbol {}, value {:#x})\n", err.what, err.index, err.value);
    return;
  }
  table = built.value();
  published.store(&table, base::MemoryOrder::kRelease);
  arch::kprint("prof: symbols: {} functions\n", table.size());
}

bool symbolize(uint64_t pc, SymbolRef* out) {
  const SymbolTable* t = published.load(base::MemoryOrder::kAcquire);
  return t != nullptr && t->lookup(pc, out);
}

bool symbolize_return_address(uint64_t ret_pc, SymbolRef* out) {
  const SymbolTable* t = published.load(base::MemoryOrder::kAcquire);
  return t != nullptr && t->lookup_return_address(ret_pc, out);
}

base::StrView readable_name(const SymbolRef& s, char* buf, size_t cap) {
  const size_t n = demangle_function_name(base::StrView(s.name), buf, cap);
  return n != 0 ? base::StrView(buf, n) : base::StrView(s.name);
}

base::StrView format_symbol(uint64_t pc, PcKind kind, char* buf, size_t cap) {
  SymbolRef s;
  const bool found = kind == PcKind::kReturnAddress ? symbolize_return_address(pc, &s) : symbolize(pc, &s);
  if (!found) {
    const size_t n = base::format_to(buf, cap, "?");
    return base::StrView(buf, n < cap ? n : (cap != 0 ? cap - 1 : 0));
  }
  char name[kSymbolTextBytes];
  const size_t n = base::format_to(buf, cap, "{}+{:#x}", readable_name(s, name, sizeof name), s.offset);
  return base::StrView(buf, n < cap ? n : (cap != 0 ? cap - 1 : 0));
}

}  // namespace prof
