// The kernel address space: builds the real page tables at boot (the
// direct map of all RAM, the kernel image with per-section permissions),
// switches to them, hands memory to the page allocator, and owns the one
// kernel page table and its lock. Layout in direct_map.h. Kernel only.
#pragma once

#include "src/arch/spinlock.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"
#include "src/mm/e820.h"
#include "src/mm/pgdir_walk.h"

namespace mm {

/// What vm_init needs to know.
struct VmBootInfo {
  base::Span<const MemRange> map;      ///< The sanitized e820 map.
  base::Span<const PhysRange> usable;  ///< Usable pages after carve-outs.
  bool nx;                             ///< CPUID: execute-disable.
  bool pages_1g;                       ///< CPUID: 1 GiB pages.
  bool poison;                         ///< Page allocator poison checking.
  /// Image pages to leave unmapped (stack guards); may be null.
  bool (*leave_unmapped)(uint64_t va);
};

/// What vm_init did, for the boot banner.
struct VmBootReport {
  uint64_t direct_map_bytes;   ///< Bytes of physical address space mapped.
  uint64_t direct_page_bytes;  ///< 1 GiB or 2 MiB.
  uint64_t metadata_bytes;     ///< Page-allocator metadata.
  uint64_t boot_table_pages;   ///< Page-table pages built at boot.
  bool nx;                     ///< Data and the direct map are non-executable.
};

/// Builds the kernel page tables, loads them (keeping the boot identity
/// map of the low 4 GiB until vm_drop_identity), enables NX and global
/// pages, and starts the page allocator over `usable` minus what the
/// bootstrap consumed. Panics with a clear message if no usable range below
/// 4 GiB can hold the bootstrap. Boot CPU, once, interrupts off.
VmBootReport vm_init(const VmBootInfo& info);

/// Per-CPU part for an application processor: global pages on
/// (CR4.PGE). Its EFER (NXE) and CR3 come from the trampoline.
void vm_init_this_cpu();

/// Removes the boot identity map (the AP trampoline's last user), so that
/// a null or small pointer faults. Boot CPU, after every AP is online.
void vm_drop_identity();

/// Maps device registers or firmware data at physical [phys, phys+bytes)
/// into the fixmap window, uncached if `uncached` ([sdm3] 11.12.3: PCD|PWT
/// select UC with the default PAT), never unmapped. Returns the virtual
/// address of `phys`. kOutOfMemory if the window or memory runs out.
base::Result<uint64_t> fixmap(uint64_t phys, uint64_t bytes, bool uncached);

/// A readable pointer to physical [phys, phys+bytes): the direct map when it
/// covers the range, else a cached fixmap. nullptr if neither works.
const void* phys_window(uint64_t phys, uint64_t bytes);

/// True once the direct map is live.
bool vm_ready();

// --- for alloc_map and tests ------------------------------------------------

/// Page-table memory: tables through the direct map, new ones from the
/// page allocator (from the bootstrap region before it exists).
struct KernelTableMemory {
  uint64_t* table(uint64_t pa);
  base::Result<uint64_t> alloc_table();
  void free_table(uint64_t pa);
};
using KernelPageTable = PageTable<KernelTableMemory>;

/// The kernel page table and the lock every change to it holds.
arch::SpinLock& kernel_vm_lock();
KernelPageTable& kernel_page_table();

/// Leaf flags of kernel mappings: global, and NX when the CPU has it.
uint64_t kernel_leaf_flags(bool writable, bool executable);

}  // namespace mm
