// The kernel heap: kmalloc/kfree/krealloc and the global operator new and
// delete, over heap_core (24 size classes with per-CPU caches in front of
// central span lists) with pages from the page allocator. Objects above
// 2 MiB get their own virtually contiguous mapping. Kernel only.
//
// Alignment: an object is aligned to the largest power of two dividing its
// size class (at least 8 bytes, 16 for 16 bytes and up; power-of-two
// classes up to 4 KiB naturally); objects above 4 KiB are page-aligned.
//
// Contexts: kmalloc/kfree of up to 2 MiB from any context but NMI; above
// 2 MiB thread context with no spinlock held (mapping and unmapping it
// allocates and shoots down the TLB).
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/heap_core.h"

namespace mm {

/// Sets up the heap and every CPU's cache. Boot CPU, after vm_init.
void heap_init(bool poison);

/// Points this CPU's per-CPU block at cache `cpu` (its index). Every
/// application processor, with interrupts off, before it allocates.
void heap_cpu_online(uint32_t cpu);

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

}  // namespace mm
