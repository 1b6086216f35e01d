// The kernel's physical page allocator: the buddy allocator (phys.h) behind
// one spinlock, with a per-CPU cache of single pages in front so that the
// common 4 KiB alloc/free touches no shared lock. Kernel only.
// Any context but NMI (the cache and the lock run with interrupts off).
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"
#include "src/mm/phys.h"

namespace mm {

/// Single pages each CPU keeps; a refill or drain moves half of it.
inline constexpr uint32_t kPageCacheSize = 64;

/// Memory whose page metadata boot prepares when init is deferred: enough
/// for everything boot allocates (heap, stacks, per-CPU blocks for 64
/// CPUs), so that boot rarely has to grow it itself, and the whole of the
/// default 256 MiB machine, whose boot is unchanged.
inline constexpr uint64_t kPageInitAtBootBytes = uint64_t{256} << 20;

/// When the page metadata is prepared (boot option `mm.init=`).
enum class PageInitMode : uint8_t {
  /// All of it at boot, the memory phase growing with RAM (`mm.init=boot`).
  kBoot,
  /// kPageInitAtBootBytes' worth at boot, the rest by a kernel thread once
  /// the scheduler runs (the kernel starts it; the default).
  kBackground,
  /// kPageInitAtBootBytes' worth at boot, the rest only by allocations that
  /// find nothing prepared (`mm.init=demand`: no thread; for tests of that
  /// path, which must then do all of it).
  kDemand,
};

/// Hands `ranges` to the buddy allocator with metadata at
/// `meta_phys` (phys_metadata_bytes(ranges) bytes, reachable through the
/// direct map). `poison` turns on phys's poison checking and bypasses the
/// per-CPU caches (a cached page would escape the check). `mode`: how much
/// metadata is prepared now; the rest waits for page_alloc_init_step() or
/// for an allocation that needs it. Boot CPU, once.
void page_alloc_init(base::Span<const PhysRange> ranges, base::PhysAddr meta_phys, bool poison,
                     PageInitMode mode = PageInitMode::kBoot);

/// The mode page_alloc_init was given.
PageInitMode page_alloc_init_mode();

/// Pages page_alloc_init_step() prepares at a time: 16 MiB, 48 KiB of
/// metadata written with the allocator's lock held and interrupts off
/// (microseconds), so allocations on other CPUs wait at most that long.
inline constexpr uint64_t kPageInitStepPages = kPhysGrowPages;

/// Prepares the next kPageInitStepPages of deferred page metadata (the
/// background init thread's loop body). Returns false once nothing is
/// deferred. Any thread; takes the allocator's lock.
bool page_alloc_init_step();

/// A block of 2^order pages, aligned to its size (kAllocZero: zeroed).
/// kOutOfMemory when nothing that large is free; never panics for that.
/// Panics if poison checking finds the block written after its free.
base::Result<base::PhysAddr> page_alloc(unsigned order, uint32_t flags = kAllocNone);

/// Returns a block from page_alloc(order). A double free, a free of memory
/// never allocated or with the wrong order panics with a backtrace: the
/// caller's bookkeeping is broken and continuing would corrupt memory.
void page_free(base::PhysAddr pa, unsigned order);

/// Counters: phys's, with the pages sitting in per-CPU caches counted free.
struct PageAllocStats {
  PhysStats phys;         ///< phys.ready_pages < phys.total_pages while init is deferred.
  uint64_t cached_pages;  ///< Free pages held by per-CPU caches (in phys.free_pages too).
  bool poison;
  /// TSC cycles from the first page_alloc_init_step() that prepared pages
  /// to the end of the last one (0 if none did): the deferred init's span.
  uint64_t init_step_tsc;
};
PageAllocStats page_alloc_stats();

/// Returns this CPU's cached pages to the buddy lists (tests that need an
/// exact free count, and a CPU going idle for long).
void page_cache_drain_this_cpu();

}  // namespace mm
