// The kernel's physical page allocator: the buddy allocator (phys.h) behind
// one spinlock, with a per-CPU cache of single pages in front so that the
// common 4 KiB alloc/free touches no shared lock. Kernel only.
// Any context but NMI (the cache and the lock run with interrupts off).
#pragma once

#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"
#include "src/mm/phys.h"

namespace mm {

/// Single pages each CPU keeps; a refill or drain moves half of it.
inline constexpr uint32_t kPageCacheSize = 64;

/// Hands `ranges` to the buddy allocator with metadata at physical
/// `meta_phys` (phys_metadata_bytes(ranges) bytes, reachable through the
/// direct map). `poison` turns on phys's poison checking and bypasses the
/// per-CPU caches (a cached page would escape the check). Boot CPU, once.
void page_alloc_init(base::Span<const PhysRange> ranges, uint64_t meta_phys, bool poison);

/// A block of 2^order pages, aligned to its size (kAllocZero: zeroed).
/// kOutOfMemory when nothing that large is free; never panics for that.
/// Panics if poison checking finds the block written after its free.
base::Result<uint64_t> page_alloc(unsigned order, uint32_t flags = kAllocNone);

/// Returns a block from page_alloc(order). A double free, a free of memory
/// never allocated or with the wrong order panics with a backtrace: the
/// caller's bookkeeping is broken and continuing would corrupt memory.
void page_free(uint64_t phys, unsigned order);

/// Counters: phys's, with the pages sitting in per-CPU caches counted free.
struct PageAllocStats {
  PhysStats phys;
  uint64_t cached_pages;  ///< Free pages held by per-CPU caches (in phys.free_pages too).
  bool poison;
};
PageAllocStats page_alloc_stats();

/// Returns this CPU's cached pages to the buddy lists (tests that need an
/// exact free count, and a CPU going idle for long).
void page_cache_drain_this_cpu();

}  // namespace mm
