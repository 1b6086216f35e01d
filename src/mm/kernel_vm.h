// The kernel address space: builds the real page tables at boot (the
// direct map of all RAM, the kernel image with per-section permissions),
// switches to them, hands memory to the page allocator, and owns the one
// kernel page table and its lock. Layout in direct_map.h. Kernel only.
#pragma once

#include "src/arch/spinlock.h"
#include "src/arch/x86.h"
#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/thread_annotations.h"
#include "src/base/types.h"
#include "src/mm/e820.h"
#include "src/mm/page_alloc.h"
#include "src/mm/pgdir_walk.h"

namespace mm {

/// What vm_init needs to know.
struct VmBootInfo {
  base::Span<const MemRange> map;                ///< The sanitized e820 map.
  base::Span<const PhysRange> usable;            ///< Usable pages after carve-outs.
  bool nx;                                       ///< CPUID: execute-disable.
  bool pages_1g;                                 ///< CPUID: 1 GiB pages.
  bool poison;                                   ///< Page allocator poison checking.
  PageInitMode page_init = PageInitMode::kBoot;  ///< When page metadata is prepared (page_alloc.h).
};

/// What vm_init did, for the boot banner.
struct VmBootReport {
  uint64_t direct_map_bytes;   ///< Bytes of physical address space mapped.
  uint64_t direct_page_bytes;  ///< 1 GiB or 2 MiB.
  uint64_t metadata_bytes;     ///< Page-allocator metadata.
  uint64_t boot_table_pages;   ///< Page-table pages built at boot.
  bool nx;                     ///< Data and the direct map are non-executable.
};

/// The usable memory vm_init was given: the sanitized e820 map minus the
/// boot carve-outs (kernel image, boot information, modules, low memory).
struct UsableMemory {
  uint64_t bytes;
  size_t ranges;
  base::PhysAddr highest_end;  ///< End of the highest usable page.
};

/// Builds the kernel page tables, loads them (keeping the boot identity
/// map of the low 4 GiB until vm_drop_identity), enables NX and global
/// pages, and starts the page allocator over `usable` minus what the
/// bootstrap consumed. Panics with a clear message if no usable range below
/// 4 GiB can hold the bootstrap. Boot CPU, once, interrupts off.
VmBootReport vm_init(const VmBootInfo& info);

/// Per-CPU part for an application processor: onto the kernel's page
/// tables (it arrives on vm_trampoline_root's), global pages on (CR4.PGE).
/// Its EFER (NXE) comes from the trampoline.
void vm_init_this_cpu();

/// The page-table root the AP trampoline turns paging on with: a copy of
/// the kernel's root taken now, boot identity map included, which this
/// copy keeps after vm_drop_identity. An AP the boot CPU gave up on may
/// still be in the trampoline when the identity map goes (INIT, which
/// would stop it, takes effect when the AP next runs: a loaded host can
/// hold a vCPU off for a second); on this root it reaches its 64-bit entry
/// and parks, where on the kernel's it would fault with no IDT — a triple
/// fault, which resets the machine. A page of the kernel image, so below
/// 4 GiB as the trampoline's 32-bit CR3 load needs. Boot CPU, after
/// vm_init, before the APs start.
uint64_t vm_trampoline_root();

/// Removes the boot identity map from the kernel's page tables, so that a
/// null or small pointer faults. Boot CPU, after every AP is online.
void vm_drop_identity();

/// Maps device registers or firmware data at physical [phys, phys+bytes)
/// into the fixmap window, uncached if `uncached` ([sdm3] 11.12.3: PCD|PWT
/// select UC with the default PAT), never unmapped. Returns the virtual
/// address of `phys`. kInvalidArgument for an empty or wrapping range,
/// kOutOfMemory if the window or memory runs out.
base::Result<base::VirtAddr> fixmap(base::PhysAddr phys, uint64_t bytes, bool uncached);

/// A readable pointer to physical [phys, phys+bytes): the direct map when it
/// covers the range, else a cached fixmap. nullptr if neither works.
const void* phys_window(base::PhysAddr phys, uint64_t bytes);

/// What vm_init was given (zeros before it). Any context.
UsableMemory usable_memory();

/// True once the direct map is live.
bool vm_ready();

// --- for alloc_map and tests ------------------------------------------------

/// The lock every change to the kernel page table holds: the interrupt-
/// saving member of the spinlock family (arch/spinlock.h). Not a SpinLock:
/// its push_cli nesting count and checks were a tenth of mapping and
/// unmapping a page, and nothing under this lock blocks. SpinLocks taken
/// inside a hold (the page allocator's) nest correctly: push_cli finds
/// interrupts already off. KernelVmGuard may drop it mid-scope (a
/// shootdown must not be sent while holding it) and take it back.
using KernelVmLock = arch::IrqSpinLock;
using KernelVmGuard = arch::IrqSpinLockGuard;

namespace internal {
/// Where page tables are reached: 0 (the boot identity map) until vm_init
/// switches to the kernel tables, kDirectMapBase after. Only vm_init writes it.
extern uint64_t table_offset;
}  // namespace internal

/// Page-table memory: tables through the direct map, new ones from the
/// page allocator (from the bootstrap region before it exists).
struct KernelTableMemory {
  /// Inline: every level of every walk goes through it.
  uint64_t* table(base::PhysAddr pa) { return reinterpret_cast<uint64_t*>(pa.value() + internal::table_offset); }
  base::Result<base::PhysAddr> alloc_table();
  void free_table(base::PhysAddr pa);
};
using KernelPageTable = PageTable<KernelTableMemory>;

namespace internal {
extern KernelVmLock vm_lock;
extern KernelPageTable kernel_table GUARDED_BY(vm_lock);
}  // namespace internal

/// The kernel page table and the lock every change to it holds (inline:
/// every map and unmap reaches both).
inline KernelVmLock& kernel_vm_lock() RETURN_CAPABILITY(internal::vm_lock) { return internal::vm_lock; }
inline KernelPageTable& kernel_page_table() REQUIRES(internal::vm_lock) { return internal::kernel_table; }

namespace internal {
extern bool nx_enabled;  // written once by vm_init
}  // namespace internal

/// Leaf flags of kernel mappings: global, and NX when the CPU has it.
inline uint64_t kernel_leaf_flags(bool writable, bool executable) {
  uint64_t f = Pte::kGlobal;
  if (writable) f |= Pte::kWritable;
  if (!executable && internal::nx_enabled) f |= Pte::kNoExecute;
  return f;
}

}  // namespace mm
