// The kernel heap: kmalloc/kfree/krealloc and the global operator new and
// delete, over heap_core (24 size classes with per-CPU caches in front of
// central span lists) with pages from the page allocator. Objects above
// 2 MiB get their own virtually contiguous mapping. Kernel only.
//
// Alignment: an object is aligned to the largest power of two dividing its
// size class (at least 8 bytes, 16 for 16 bytes and up; power-of-two
// classes up to 4 KiB naturally); objects above 4 KiB are page-aligned.
//
// Charging (heap_charge.h): every small object is charged to the running
// thread's reservation, or outside one to the CPU's own account (interrupt
// handlers always), and every free credits the account of whoever frees.
// Objects above 4 KiB are charged to the heap budget in bytes. An
// allocation past its reservation still succeeds and is reported once per
// call site (or panics, heap_set_overrun_panics).
//
// Contexts: kmalloc/kfree of up to 2 MiB from any context but NMI; above
// 2 MiB thread context with no spinlock held (mapping and unmapping it
// allocates and shoots down the TLB).
#pragma once

#include "src/arch/cpu_index.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/heap_charge.h"
#include "src/mm/heap_core.h"

namespace mm {

/// Sets up the heap and every CPU's cache. Boot CPU, after vm_init.
void heap_init(bool poison);

/// Points this CPU's per-CPU block at cache `cpu` (its index). Every
/// application processor, with interrupts off, before it allocates.
void heap_cpu_online(arch::CpuIndex cpu);

/// Returns every object in this CPU's cache to the central lists: a CPU
/// going offline keeps nothing. Any context but NMI.
void heap_cache_flush_this_cpu();

/// `size` bytes (0 is treated as 1), or nullptr when memory is exhausted.
void* kmalloc(size_t size);

/// Frees what kmalloc/krealloc returned; nullptr is ignored. A pointer the
/// heap never handed out, one into the middle of an object, or a second
/// free panics with a backtrace.
void kfree(void* p);

/// C realloc semantics; nullptr (and `p` untouched) when memory is exhausted.
void* krealloc(void* p, size_t size);

/// Bytes usable at `p` (at least what was asked for).
size_t kmalloc_usable_size(const void* p);

/// The heap's counters: per class live objects and bytes (what the runtime's
/// reservation accounting reads), large objects, pages held.
struct KernelHeapStats {
  HeapStats heap;
  uint64_t huge_live_objects;  ///< Objects above 2 MiB.
  uint64_t huge_live_bytes;
};
KernelHeapStats heap_stats();

/// The budget the heap starts with, before rt sets the maximum: far above
/// any machine's memory, so boot is never refused (Biscuit booted on a
/// large reservation too).
inline constexpr int64_t kHeapBootBudget = int64_t{1} << 60;

/// The heap budget: rt reserves from it and sets its maximum.
HeapBudget& heap_budget();

/// CPU `cpu`'s own account (allocations outside reservations), for
/// statistics: read racily unless that CPU is quiescent.
const HeapCharge& heap_cpu_charge(arch::CpuIndex cpu);

/// Gives this CPU's own account's credit back to the budget (a reserve
/// that cannot be met collects what frees left there); returns the bytes.
/// Any context but NMI.
uint64_t heap_cpu_charge_flush();

/// Whether an overrun panics (a test setting) instead of being reported.
void heap_set_overrun_panics(bool panics);

struct HeapChargeStats {
  uint64_t overruns;                 ///< Allocations past a reservation.
  uint64_t overrun_sites;            ///< Distinct call sites among them.
  uint64_t overrun_sites_untracked;  ///< Reports past a full site table.
  uint64_t large_charged_bytes;      ///< Objects 4 KiB..2 MiB, charged in bytes.
  uint64_t huge_charged_bytes;       ///< Objects above 2 MiB, charged in bytes.
};
HeapChargeStats heap_charge_stats();

}  // namespace mm
