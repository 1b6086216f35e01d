// See kernel_vm.h.
#include "src/mm/kernel_vm.h"

#include "src/arch/stacks.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/mm/direct_map.h"
#include "src/mm/page_alloc.h"
#include "src/mm/tlb.h"

extern "C" char __text_start[], __rodata_start[], __data_start[], __kernel_virt_end[];

namespace mm {
namespace {

constexpr uint64_t k1G = uint64_t{1} << 30;
constexpr uint64_t k2M = uint64_t{2} << 20;
constexpr uint64_t k4G = uint64_t{4} << 30;
constexpr size_t kMaxDirectRuns = 256;
constexpr size_t kMaxUsable = 512;

// Before the switch, tables are reached through the boot identity map
// (internal::table_offset 0) and come from the bump region; after it, the
// direct map and the page allocator.
constinit bool allocator_up = false;
constinit uint64_t bump_next = 0, bump_end = 0;
constinit uint64_t tables_from_bump = 0;
constinit base::PhysAddr kernel_root;
// vm_trampoline_root's page.
alignas(base::kPageSize) constinit uint64_t trampoline_root_table[base::kPageSize / sizeof(uint64_t)]{};
constinit PhysRange direct_runs[kMaxDirectRuns]{};
constinit size_t num_direct_runs = 0;
constinit PhysRange usable_after_boot[kMaxUsable]{};
constinit uint64_t fixmap_next GUARDED_BY(internal::vm_lock) = kFixmapBase;
constinit UsableMemory usable_given{};

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

void map_or_panic(uint64_t va, uint64_t pa, PageSize size, uint64_t flags) REQUIRES(internal::vm_lock) {
  KernelPageTable& pt = kernel_page_table();
  base::Status s = pt.map(base::VirtAddr(va), base::PhysAddr(pa), size, flags);
  if (!s.ok()) PANIC("vm_init: mapping {:#x} -> {:#x}: {} ({})", va, pa, base::error_name(s.error()), pt.reason());
}

// The image, section by section: text RX, rodata R, data/stacks/bss RW.
void map_image() REQUIRES(internal::vm_lock) {
  struct Part {
    uint64_t start, end;
    bool writable, executable;
  };
  const Part parts[] = {
      {addr(__text_start), addr(__rodata_start), false, true},
      {addr(__rodata_start), addr(__data_start), false, false},
      {addr(__data_start), addr(__kernel_virt_end), true, false},
  };
  for (const Part& p : parts) {
    ASSERT_MSG(p.start % base::kPageSize == 0 && p.end % base::kPageSize == 0,
               "kernel image section [{:#x}, {:#x}) not page-aligned", p.start, p.end);
    for (uint64_t va = p.start; va < p.end; va += base::kPageSize) {
      if (arch::is_stack_guard_page(base::VirtAddr(va))) continue;  // an overflow must fault
      map_or_panic(va, va - kKernelImageBase, PageSize::k4K, kernel_leaf_flags(p.writable, p.executable));
    }
  }
}

// Page tables the bootstrap needs, an upper bound: per direct-map run one
// table per GiB (2 MiB leaves) plus its edges, per 512 GiB one PDPT, the
// image's page tables, the PML4 and some slack for the fixmap.
uint64_t bootstrap_table_pages(uint64_t image_bytes) {
  uint64_t n = 1 + 8;
  for (size_t i = 0; i < num_direct_runs; ++i) {
    const PhysRange& r = direct_runs[i];
    n += r.size() / k1G + 2 + r.size() / (uint64_t{512} * k1G) + 2;
  }
  return n + image_bytes / k2M + 4;
}

}  // namespace

constinit uint64_t internal::table_offset = 0;

base::Result<base::PhysAddr> KernelTableMemory::alloc_table() {
  if (allocator_up) return page_alloc(0, kAllocZero);
  if (bump_next == bump_end) return base::Error::kOutOfMemory;
  const base::PhysAddr pa(bump_next);
  bump_next += base::kPageSize;
  ++tables_from_bump;
  __builtin_memset(table(pa), 0, base::kPageSize);
  return pa;
}

void KernelTableMemory::free_table(base::PhysAddr pa) {
  if (allocator_up) page_free(pa, 0);
  // A bump page is simply not reused: this only happens on a bootstrap
  // failure, which panics anyway.
}

constinit KernelVmLock internal::vm_lock;
constinit KernelPageTable internal::kernel_table{KernelTableMemory{}, base::PhysAddr(0)};

constinit bool internal::nx_enabled = false;

bool vm_ready() { return allocator_up; }

VmBootReport vm_init(const VmBootInfo& in) {
  ASSERT_MSG(kernel_root == base::PhysAddr(0), "vm_init called twice");
  VmBootReport report{};
  report.direct_page_bytes = in.pages_1g ? k1G : k2M;
  auto runs = plan_direct_map(in.map, report.direct_page_bytes, base::Span<PhysRange>(direct_runs, kMaxDirectRuns));
  if (!runs.ok())
    PANIC("direct map: {} (more than {} RAM runs, or RAM beyond 64 TiB)", base::error_name(runs.error()),
          kMaxDirectRuns);
  num_direct_runs = runs.value();
  for (size_t i = 0; i < num_direct_runs; ++i) report.direct_map_bytes += direct_runs[i].size();

  // The bootstrap region: page-allocator metadata, then the boot page
  // tables, from the first usable range below 4 GiB (the boot identity map
  // reaches it, and the AP trampoline loads a 32-bit CR3) that holds it.
  ASSERT_MSG(in.usable.size() <= kMaxUsable, "more than {} usable ranges", kMaxUsable);
  report.metadata_bytes = phys_metadata_bytes(in.usable);
  usable_given = UsableMemory{total_bytes(in.usable), in.usable.size(), usable_end(in.usable)};
  const uint64_t image_bytes = addr(__kernel_virt_end) - addr(__text_start);
  const uint64_t need =
      round_up(report.metadata_bytes, base::kPageSize) + bootstrap_table_pages(image_bytes) * base::kPageSize;
  size_t chosen = in.usable.size();
  for (size_t i = 0; i < in.usable.size(); ++i) {
    const PhysRange& r = in.usable[i];
    if (r.end.value() <= k4G && r.size() >= need) {
      chosen = i;
      break;
    }
  }
  if (chosen == in.usable.size())
    PANIC("vm_init: no usable range below 4 GiB holds the {} KiB of page-allocator metadata and boot page tables",
          need >> 10);
  const base::PhysAddr meta_phys = in.usable[chosen].start;
  bump_next = (meta_phys + round_up(report.metadata_bytes, base::kPageSize)).value();
  bump_end = (meta_phys + need).value();

  // The new PML4, with the boot identity map of the low 4 GiB borrowed
  // (slot 0) until the APs are up: the trampoline runs there when it turns
  // paging on.
  internal::nx_enabled = in.nx;
  report.nx = in.nx;
  if (internal::nx_enabled) arch::wrmsr(arch::kIa32Efer, arch::rdmsr(arch::kIa32Efer) | arch::kEferNxe);
  {
    // One CPU yet, but held all the same: the table is written only under
    // its lock, and the analysis checks that.
    KernelVmGuard g(kernel_vm_lock());
    KernelTableMemory mem;
    kernel_root = mem.alloc_table().value();
    internal::kernel_table = KernelPageTable(mem, kernel_root);
    mem.table(kernel_root)[0] = mem.table(base::PhysAddr(arch::read_cr3() & Pte::kAddrMask))[0];

    const PageSize leaf = in.pages_1g ? PageSize::k1G : PageSize::k2M;
    for (size_t i = 0; i < num_direct_runs; ++i) {
      for (uint64_t pa = direct_runs[i].start.value(); pa < direct_runs[i].end.value(); pa += report.direct_page_bytes)
        map_or_panic(kDirectMapBase + pa, pa, leaf, kernel_leaf_flags(true, false));
    }
    map_image();
  }

  arch::write_cr3(kernel_root.value());
  arch::write_cr4(arch::read_cr4() | arch::kCr4Pge);
  internal::table_offset = kDirectMapBase;
  report.boot_table_pages = tables_from_bump;

  // Everything else goes to the page allocator: the chosen range loses
  // what the bootstrap used.
  size_t n = 0;
  for (size_t i = 0; i < in.usable.size(); ++i) {
    PhysRange r = in.usable[i];
    if (i == chosen) r.start = base::PhysAddr(bump_next);
    if (r.end > r.start) usable_after_boot[n++] = r;
  }
  page_alloc_init(base::Span<const PhysRange>(usable_after_boot, n), meta_phys, in.poison, in.page_init);
  allocator_up = true;
  return report;
}

UsableMemory usable_memory() { return usable_given; }

void vm_init_this_cpu() {
  arch::write_cr3(kernel_root.value());
  arch::write_cr4(arch::read_cr4() | arch::kCr4Pge);
}

uint64_t vm_trampoline_root() {
  KernelVmGuard g(kernel_vm_lock());
  KernelTableMemory mem;
  // The upper half as it is now is all an AP needs before it switches:
  // the image (its entry code, landing stacks and per-CPU blocks) and the
  // direct map. Later upper-half changes share the lower-level tables;
  // only a new top-level entry would be missing here, and no AP reaches
  // one before vm_init_this_cpu.
  __builtin_memcpy(trampoline_root_table, mem.table(kernel_root), sizeof trampoline_root_table);
  return reinterpret_cast<uint64_t>(trampoline_root_table) - kKernelImageBase;
}

void vm_drop_identity() {
  {
    KernelVmGuard g(kernel_vm_lock());
    KernelTableMemory mem;
    __atomic_store_n(&mem.table(kernel_root)[0], uint64_t{0}, __ATOMIC_RELEASE);
  }
  // The identity entries are not global: a CR3 reload anywhere drops them,
  // and a full shootdown does at least that.
  tlb_shootdown_all_full();
}

base::Result<base::VirtAddr> fixmap(base::PhysAddr phys_addr, uint64_t bytes, bool uncached) {
  const uint64_t phys = phys_addr.value();
  const uint64_t first = phys & ~(base::kPageSize - 1);
  const uint64_t last = round_up(phys + bytes, base::kPageSize);
  if (bytes == 0 || last <= first) return base::Error::kInvalidArgument;
  KernelVmGuard g(kernel_vm_lock());
  if (kFixmapBase + kFixmapBytes - fixmap_next < last - first) return base::Error::kOutOfMemory;
  uint64_t flags = kernel_leaf_flags(true, false);
  if (uncached) flags |= Pte::kCacheDisable | Pte::kWriteThrough;
  const uint64_t va = fixmap_next;
  for (uint64_t pa = first; pa < last; pa += base::kPageSize) {
    // Fresh virtual addresses: nothing to invalidate.
    base::Status s =
        kernel_page_table().map(base::VirtAddr(va + (pa - first)), base::PhysAddr(pa), PageSize::k4K, flags);
    if (!s.ok()) return s.error();  // out of table memory: the window keeps the hole
  }
  fixmap_next += last - first;
  return base::VirtAddr(va + (phys - first));
}

const void* phys_window(base::PhysAddr phys_addr, uint64_t bytes) {
  for (size_t i = 0; i < num_direct_runs; ++i) {
    const PhysRange& r = direct_runs[i];
    if (phys_addr >= r.start && phys_addr < r.end && bytes <= r.end - phys_addr) return phys_to_virt(phys_addr);
  }
  base::Result<base::VirtAddr> va = fixmap(phys_addr, bytes, /*uncached=*/false);
  return va.ok() ? base::as_ptr<const void>(va.value()) : nullptr;
}

}  // namespace mm
