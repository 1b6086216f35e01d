// Physical page allocator: a binary buddy allocator over the usable page
// ranges (orders 0..kMaxOrder, 4 KiB .. 2 MiB). Pure logic with metadata in
// caller-provided memory, so the same code runs in the kernel and host tests.
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"
#include "src/mm/e820.h"

namespace mm {

/// Largest block order: 2^9 pages = 2 MiB, one huge page.
inline constexpr unsigned kMaxOrder = 9;
inline constexpr unsigned kNumOrders = kMaxOrder + 1;

/// Bytes in a block of `order`.
constexpr uint64_t order_bytes(unsigned order) { return base::kPageSize << order; }

/// Turns a physical address into a pointer the allocator may write through
/// (the kernel's direct map; in host tests, simulated memory). Only called
/// for zeroed allocations and in poison mode. Must be valid for one page.
using PhysToPtr = uint8_t* (*)(void* ctx, base::PhysAddr phys);

/// Flags for PhysAllocator::alloc.
enum AllocFlags : uint32_t {
  kAllocNone = 0,
  /// Zero the block before returning it (needs a PhysToPtr).
  kAllocZero = 1u << 0,
};

/// Options fixed at init.
struct PhysOptions {
  /// Fill freed blocks with kPoisonByte and verify the fill when they are
  /// handed out again: catches writes after free. Costs a pass over the
  /// block on every free and allocation; needs a PhysToPtr.
  bool poison = false;
  /// Pages whose metadata init() prepares (at least; rounded up to a 2 MiB
  /// boundary or a range's end). The rest is deferred, as Linux's deferred
  /// struct-page init does: writing 12 bytes per page is what made boot
  /// grow with RAM (24 MiB at 8 GiB). grow() prepares it later, and an
  /// allocation that finds the prepared part exhausted grows it itself,
  /// so deferring never causes an out-of-memory result.
  uint64_t init_pages = ~uint64_t{0};
};

/// Pages grow() prepares per call when an allocation needs more: 16 MiB,
/// 48 KiB of metadata written with the caller's lock held.
inline constexpr uint64_t kPhysGrowPages = 4096;

/// Byte written over freed memory in poison mode.
inline constexpr uint8_t kPoisonByte = 0x6B;

/// A snapshot of the allocator's counters.
struct PhysStats {
  uint64_t total_pages;              ///< Pages managed (all usable ranges).
  uint64_t free_pages;               ///< Pages free, deferred (not yet prepared) ones included.
  uint64_t ready_pages;              ///< Pages whose metadata is prepared (total_pages once init is done).
  uint64_t grown_by_alloc;           ///< grow() steps allocations did themselves (found nothing prepared).
  uint64_t quarantined_pages;        ///< Pages withheld after a poison failure.
  uint64_t poison_failures;          ///< Allocations that found corrupted poison.
  uint64_t free_blocks[kNumOrders];  ///< Free blocks per order (prepared pages only).
};

/// Per-page metadata, one per managed 4 KiB page: 12 bytes (0.29% of RAM).
/// Kept outside the pages so free memory can be poisoned whole.
struct PhysPageMeta {
  uint32_t next;  ///< Free-list link (page index), valid on a free head.
  uint32_t prev;
  uint8_t order;  ///< Block order, valid on a block head.
  uint8_t flags;  ///< kHeadFree / kHeadAllocated / kPoisoned, 0 elsewhere.
  uint16_t pad;
};

/// One usable range as the allocator indexes it.
struct PhysRangeInfo {
  uint64_t start;
  uint64_t end;
  uint64_t first_page;  ///< Index of the range's first page in the page array.
  /// End of the part whose metadata is prepared (start..end; end once the
  /// deferred init has passed the range). Stored with release by grow(),
  /// read without the lock by cache_page(): one compare decides both
  /// "in this range" and "prepared", so deferral costs the free path nothing.
  uint64_t ready_end;
};

/// Bytes of metadata init() needs for `ranges` (sorted, disjoint, page
/// aligned, as usable_pages() produces): 12 bytes per usable page, plus 4
/// bytes per GiB between the first range's start and the last one's end
/// (the region table that finds a page's range in O(1)), so a range at
/// 1 TiB costs its own pages and 4 KiB.
uint64_t phys_metadata_bytes(base::Span<const PhysRange> ranges);

/// The region table's granule: one entry per 1 GiB of physical address space.
inline constexpr unsigned kPhysRegionShift = 30;

/// The buddy allocator. Blocks of order k are 2^k pages, physically aligned
/// to their own size (so an order-9 block can be mapped as a 2 MiB page),
/// and never cross a usable range boundary.
///
/// Not thread-safe and takes no lock: the caller serializes every call
/// (the kernel wraps it in a spinlock held with interrupts off; the lead
/// adds per-CPU caches in front of it). Never allocates, never blocks, so
/// it may be called from any context, including interrupt handlers, as long
/// as that lock discipline holds.
///
/// Errors never panic: they return an Error and set last_error() to a
/// static message. The kernel wrapper turns kInvalidArgument from free()
/// and kFault from alloc() into a PANIC (which prints a backtrace).
class PhysAllocator {
 public:
  /// Takes ownership of all of `ranges` (sorted, non-overlapping, page
  /// aligned; empty ones are skipped) and puts them on the free lists.
  /// `metadata` must hold phys_metadata_bytes(ranges) bytes, 8-byte aligned,
  /// and must not lie inside `ranges`. `to_ptr` may be null if neither
  /// kAllocZero nor poison mode is used. Cost: O(ranges + regions +
  /// init_pages) (one pass over the prepared pages' metadata), and nothing
  /// is poisoned at init: untouched memory is simply not checked.
  /// Returns kInvalidArgument on malformed ranges or a short/misaligned
  /// buffer, kOutOfRange past 2^32 - 1 pages (16 TiB).
  base::Status init(base::Span<const PhysRange> ranges, base::Span<uint8_t> metadata, PhysToPtr to_ptr, void* ctx,
                    PhysOptions options = {});

  /// Prepares the metadata of at least `max_pages` more deferred pages (up
  /// to the next 2 MiB boundary or the end of a range, so that no buddy
  /// ever lies across the prepared edge) and puts them on the free lists
  /// as init() would have. Returns the pages prepared: 0 once all are.
  /// O(max_pages) for the metadata, O(max_pages / 512 + kMaxOrder) blocks.
  uint64_t grow(uint64_t max_pages);

  /// True while some pages' metadata is still deferred.
  bool growing() const { return stats_.ready_pages != stats_.total_pages; }

  /// Allocates a block of 2^order pages aligned to its size. O(kMaxOrder +
  /// log ranges) (a binary search maps the page index back to its range).
  /// While metadata is deferred and no block that large is free, grows it
  /// kPhysGrowPages at a time until one is (the allocation waits for init
  /// by doing it). Returns its physical address, or kOutOfMemory if no
  /// block that large is free once every page is prepared, kInvalidArgument if order > kMaxOrder (or kAllocZero without
  /// a PhysToPtr), or kFault in poison mode if the block's poison was
  /// overwritten (a write after free; the block is then quarantined, never
  /// handed out, and last_fault_addr() names the first bad byte).
  base::Result<base::PhysAddr> alloc(unsigned order, uint32_t flags = kAllocNone);

  /// Returns a block obtained from alloc(order). O(kMaxOrder + log ranges):
  /// merges with free buddies. Returns kInvalidArgument (and changes nothing) on a double
  /// free, a free of memory never allocated, an address not managed here,
  /// not the start of a block, or an order different from the allocation's.
  base::Status free(base::PhysAddr pa, unsigned order);

  /// Current counters. O(1).
  PhysStats stats() const { return stats_; }

  /// The message of the last failed call (static storage), or nullptr.
  const char* last_error() const { return last_error_; }
  /// In poison mode, the address of the first corrupted byte found.
  base::PhysAddr last_fault_addr() const { return last_fault_addr_; }

  /// Front-end caches of single pages (the kernel's per-CPU caches) keep
  /// pages that are allocated as far as the buddy lists know. cache_page()
  /// marks such a page as sitting in a cache, so that freeing it again —
  /// into a cache or here — is caught: kInvalidArgument unless `phys` is an
  /// allocated order-0 block not already cached. uncache_page() takes the
  /// mark off when the cache hands the page out or drains it. Both are one
  /// atomic operation on the page's flags and need no lock: the buddy code
  /// never touches an allocated page's metadata. O(1) (the region table),
  /// and inline: it is the page caches' free path.
  /// `meta`, if given, receives the page's metadata for uncache().
  [[gnu::always_inline]] base::Status cache_page(base::PhysAddr pa, PhysPageMeta** meta = nullptr) {
    const uint64_t phys = pa.value();
    const PhysRangeInfo* r = base::is_aligned(phys, base::kPageSize) ? find_ready_range(phys) : nullptr;
    if (__builtin_expect(r == nullptr, 0)) return fail_lookup(phys);
    PhysPageMeta& m = pages_[index_of(*r, phys)];
    if (__builtin_expect(m.order != 0, 0)) return fail_free(*r, phys);
    // Atomic: two CPUs freeing the same page into their caches at once must
    // not both succeed.
    const uint8_t old = __atomic_fetch_or(&m.flags, kCached, __ATOMIC_RELAXED);
    if (__builtin_expect(old != kHeadAllocated, 0)) return fail_cache(*r, phys, old);
    if (meta) *meta = &m;
    return base::Status::Ok();
  }
  void uncache_page(base::PhysAddr pa);
  /// uncache_page() for a page whose metadata cache_page() returned: no
  /// lookup, one atomic instruction (the page caches' fast path).
  static void uncache(PhysPageMeta* m) {
    __atomic_fetch_and(&m->flags, static_cast<uint8_t>(~kCached), __ATOMIC_RELAXED);
  }

  /// True if `phys` lies in a managed range.
  bool owns(base::PhysAddr pa) const { return find_range(pa.value()) != nullptr; }

 private:
  static constexpr uint32_t kNil = 0xFFFFFFFFu;
  static constexpr uint8_t kHeadFree = 1u << 0;
  static constexpr uint8_t kHeadAllocated = 1u << 1;
  static constexpr uint8_t kPoisoned = 1u << 2;  // Whole free block holds poison.
  static constexpr uint8_t kCached = 1u << 4;    // Allocated, held by a page cache (bit 3: phys.cc's kQuarantined).

  // The range holding `phys`, or nullptr. The region table names the first
  // range ending above the start of phys's GiB; ranges are sorted and
  // disjoint, so the first one from there that ends above phys holds it or
  // phys lies in a hole. Only ranges sharing that GiB are stepped over
  // (usually none), so this is O(1) for any real memory map.
  // Every GiB in the table has such a range (the last range ends in or
  // after it), so the first candidate needs no bounds check.
  [[gnu::always_inline]] const PhysRangeInfo* find_range(uint64_t phys) const {
    const uint64_t g = (phys >> kPhysRegionShift) - region_base_;  // wraps below the first range
    if (g >= num_regions_) return nullptr;
    const PhysRangeInfo* r = ranges_ + region_first_[g];
    if (__builtin_expect(phys >= r->end, 0)) return find_range_after(phys, r);
    return phys >= r->start ? r : nullptr;
  }
  const PhysRangeInfo* find_range_after(uint64_t phys, const PhysRangeInfo* r) const;
  // find_range() for a page whose metadata is prepared (a deferred page was
  // never allocated): the same lookup, compared against the prepared end,
  // so it costs cache_page() nothing over find_range(). Out of line past
  // that end: the next range of the GiB, a hole, or an unprepared page.
  [[gnu::always_inline]] const PhysRangeInfo* find_ready_range(uint64_t phys) const {
    const uint64_t g = (phys >> kPhysRegionShift) - region_base_;
    if (g >= num_regions_) return nullptr;
    const PhysRangeInfo* r = ranges_ + region_first_[g];
    if (__builtin_expect(phys >= __atomic_load_n(&r->ready_end, __ATOMIC_ACQUIRE), 0))
      return find_ready_range_slow(phys);
    return phys >= r->start ? r : nullptr;
  }
  const PhysRangeInfo* find_ready_range_slow(uint64_t phys) const;
  // Why find_ready_range() found nothing: unaligned or unmanaged, or not prepared.
  base::Status fail_lookup(uint64_t phys);
  base::Status fail_unmanaged();
  base::Status fail_unready();
  // Pages below this index have metadata; read without the lock by
  // cache_page(), stored with release after the metadata is written.
  uint64_t ready_index() const { return __atomic_load_n(&stats_.ready_pages, __ATOMIC_ACQUIRE); }
  void carve(const PhysRangeInfo& r, uint64_t start, uint64_t end);
  base::Status fail_cache(const PhysRangeInfo& r, uint64_t phys, uint8_t old);
  uint64_t index_of(const PhysRangeInfo& r, uint64_t phys) const {
    return r.first_page + ((phys - r.start) >> base::kPageShift);
  }
  void push_free(const PhysRangeInfo& r, uint64_t phys, unsigned order, bool poisoned);
  void unlink_free(uint32_t idx, unsigned order);
  const PhysRangeInfo* range_of_index(uint32_t idx) const;
  base::Status fail_free(const PhysRangeInfo& r, uint64_t phys);
  void fill(uint64_t phys, unsigned order, uint8_t byte);
  bool check_poison(uint64_t phys, unsigned order);

  PhysRangeInfo* ranges_ = nullptr;
  size_t num_ranges_ = 0;
  PhysPageMeta* pages_ = nullptr;
  // Per GiB from region_base_ (a GiB number): index of the first range that
  // ends above that GiB's start. Lives in the metadata, after the pages.
  uint32_t* region_first_ = nullptr;
  uint64_t region_base_ = 0;
  uint64_t num_regions_ = 0;
  uint32_t free_head_[kNumOrders] = {};
  // The deferred part starts at grow_next_ in range grow_range_.
  size_t grow_range_ = 0;
  uint64_t grow_next_ = 0;
  PhysToPtr to_ptr_ = nullptr;
  void* ctx_ = nullptr;
  PhysOptions options_{};
  PhysStats stats_{};
  const char* last_error_ = nullptr;
  base::PhysAddr last_fault_addr_;
};

}  // namespace mm
