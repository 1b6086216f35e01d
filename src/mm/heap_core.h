// The kernel heap's shared part, after Go's mcentral/mheap: HeapCentral
// carves page spans from a page source into objects of one size class and
// feeds the per-CPU caches (heap_cache.h, Go's mcache). Span metadata
// lives outside the spans, so a use after free cannot corrupt it, and one
// allocation bit per object makes double-free detection exact.
//
// Locks: HeapCentral is templated on an annotated lock (the kernel's
// SpinLock, base::HostMutex in host tests): one lock per size class guarding
// its span lists, and one heap lock guarding the page source, the span
// records, the page map and the large objects. No code path ever holds two
// of them, so there is no lock order to get wrong.
#pragma once

#include "src/base/atomic.h"
#include "src/base/atomic_bits.h"
#include "src/base/lock_guard.h"
#include "src/base/result.h"
#include "src/base/thread_annotations.h"
#include "src/base/types.h"
#include "src/mm/heap_page_map.h"
#include "src/mm/heap_page_source.h"
#include "src/mm/heap_size_classes.h"

namespace mm {

/// Byte written over free objects in poison mode.
inline constexpr uint8_t kHeapPoisonByte = 0x6B;
/// Objects bigger than this are refused with kOutOfMemory (1 TiB): it
/// keeps the page arithmetic far from overflow.
inline constexpr size_t kHeapMaxLargeSize = size_t{1} << 40;

// Static messages for last_error(); compare by address or text.
inline constexpr char kHeapErrForeign[] = "heap: pointer does not belong to the heap";
inline constexpr char kHeapErrInterior[] = "heap: pointer is not the start of an object";
inline constexpr char kHeapErrDoubleFree[] = "heap: double free (object already freed)";
inline constexpr char kHeapErrPoison[] = "heap: poison overwritten (write after free)";
inline constexpr char kHeapErrOutOfMemory[] = "heap: out of memory";

/// Options fixed at init.
struct HeapOptions {
  /// Fill freed small objects (and new spans) with kHeapPoisonByte and
  /// verify the fill when an object is handed out again: catches writes
  /// after free. Costs a pass over the object on each free and allocation.
  bool poison = false;
};

/// Pseudo-classes in HeapSpan::cls beyond the small ones.
inline constexpr uint8_t kHeapSpanLarge = kHeapNumClasses;       ///< One large object.
inline constexpr uint8_t kHeapSpanDead = kHeapNumClasses + 1;    ///< Released; geometry kept.
inline constexpr uint8_t kHeapSpanUnused = kHeapNumClasses + 2;  ///< Never used / wiped.

inline constexpr uint32_t kHeapSpanWords = kHeapMaxSpanObjects / 64;

/// The record of one span, outside the span's memory, in a slab from the
/// page source. Records are never given back before HeapCore::destroy(),
/// so a racing lock-free lookup always reads a record, never unmapped
/// memory. A released span's record keeps its geometry and its page-map
/// entries until the record is reused (oldest first), so a later free into
/// it is reported as the double free it is rather than a foreign pointer.
/// (The flip side: until then, a pointer into those pages after the page
/// source gave them to someone else also reads as a double free.)
struct alignas(64) HeapSpan {
  // Geometry: written under the heap lock before the span is published;
  // read lock-free by the cache fast paths.
  uintptr_t base;
  size_t bytes;           ///< span_pages * 4096.
  uint32_t object_size;   ///< Small: class size; large: 0.
  uint32_t div_magic;     ///< See HeapClass::div_magic.
  uint32_t carved_bytes;  ///< Small: num_objects * object_size (the tail after it holds no object).
  uint16_t num_objects;   ///< Small: objects carved; large: 1.
  uint8_t cls;            ///< Small class, kHeapSpanLarge, kHeapSpanDead or kHeapSpanUnused.
  uint8_t former_cls;     ///< While dead: what it was.
  // Class lock (heap lock while the record is free or being set up).
  HeapSpan* next;  ///< Partial list, or the free-record queue.
  HeapSpan* prev;
  uint32_t avail_count;  ///< Objects in `avail`.
  // Lock-free: bit set = handed to a user. Atomic RMW on the owning word
  // makes two racing frees of one object resolve to one free + one error.
  alignas(64) base::Atomic<uint64_t> allocated[kHeapSpanWords];
  // Class lock: bit set = free and held by the central (not in a cache).
  uint64_t avail[kHeapSpanWords];

  /// Index of the object at byte offset `off`, exact for off < bytes.
  uint32_t index_of(uintptr_t off) const { return static_cast<uint32_t>((off * div_magic) >> 32); }

  /// For a small-object span: true, with its index in `*idx`, if an object
  /// starts at byte offset `off`; false if none does (inside an object, in
  /// the tail, or outside the span, as a wrapped negative offset is). One
  /// multiply serves both questions: off * div_magic has the quotient in
  /// its high half and, exactly when the division leaves no remainder, a
  /// low half below div_magic. Proof: with
  /// div_magic * size = 2^32 + e (0 <= e < size) and off = q * size + r,
  /// the low half is q * e + r * div_magic; for r = 0 that is below
  /// q * size <= bytes <= 2^32 / size <= div_magic (the class table's rule
  /// bytes * size <= 2^32), and for r >= 1 it is at least div_magic, with
  /// no carry into the quotient since index_of() is exact.
  bool object_at(uintptr_t off, uint32_t* idx) const {
    if (off >= carved_bytes) return false;
    uint64_t p = off * div_magic;
    *idx = static_cast<uint32_t>(p >> 32);
    return static_cast<uint32_t>(p) < div_magic;
  }

  /// Marks object `idx` handed out; returns whether it already was.
  bool mark_allocated(uint32_t idx) { return base::atomic_test_and_set_bit(allocated, idx); }
  /// Marks object `idx` free; returns whether it was allocated (false: a
  /// double free). Of two racing frees exactly one sees true.
  bool mark_free(uint32_t idx) { return base::atomic_test_and_clear_bit(allocated, idx); }
};
static_assert(sizeof(HeapSpan) == 192);

/// A free object as the per-CPU caches and the central trade them: with
/// its span, so allocating from a cache needs no page-map lookup.
struct HeapSlot {
  void* obj;
  HeapSpan* span;
};

/// Per class counters in a snapshot.
struct HeapClassStats {
  uint32_t size;
  uint64_t live_objects;  ///< Handed to users, not yet freed.
  uint64_t live_bytes;    ///< live_objects * size.
  uint64_t spans;         ///< Spans held (including the cached empty one).
  uint64_t central_free;  ///< Free objects held by the central (not in caches).
};

/// A snapshot of the heap's counters. Per-CPU counters are read one after
/// another without stopping the CPUs, so under load the totals are only
/// approximately simultaneous (a count that would read negative reads 0);
/// with the heap quiescent they are exact.
struct HeapStats {
  HeapClassStats classes[kHeapNumClasses];
  uint64_t small_live_objects;
  uint64_t small_live_bytes;
  uint64_t large_live_objects;
  uint64_t large_live_bytes;  ///< Page-granular: what usable_size() reports.
  uint64_t span_pages;        ///< Pages in small-object spans.
  uint64_t metadata_pages;    ///< Span records and page-map nodes.
  uint64_t pages_held;        ///< Everything held from the page source.
  uint64_t quarantined;       ///< Objects withheld after a poison failure.
};

/// Counters a HeapCache keeps for stats(); written only by its owner.
struct HeapCacheCounters {
  base::Atomic<int64_t> live[kHeapNumClasses];  ///< Allocations minus frees here.
  base::Atomic<uint64_t> quarantined;
  HeapCacheCounters* next = nullptr;  ///< Heap lock: the central's list.
};

/// The central's state and logic, without locks: each method names the
/// lock its caller must hold (HeapCentral does the locking). Not a public
/// interface for anything but HeapCentral and HeapCache.
class HeapCore {
 public:
  /// Single-threaded setup: records the source and allocates the page
  /// map's root. kOutOfMemory if that fails.
  base::Status init(const HeapPageSource& source, HeapOptions options);
  /// Single-threaded teardown: returns every span, large object, record
  /// slab and map node to the page source, live objects or not.
  void destroy();

  const HeapOptions& options() const { return options_; }

  /// Lock-free: the span record for the page holding `addr`; a record
  /// with cls kHeapSpanUnused (and no pages) if the heap never mapped it.
  /// It may be dead or unrelated; callers validate.
  HeapSpan* lookup(uintptr_t addr) const { return map_.lookup(addr); }
  /// The page map's root, for HeapCache's copy (see HeapPageMap::root()).
  const HeapPageMap::Node* map_root() const { return map_.root(); }

  /// Lock-free: nullptr if `addr` is the start of a live object, else the
  /// error message saying why not. `s` is lookup(addr).
  const char* diagnose(uintptr_t addr, const HeapSpan* s) const;

  // --- Class lock of `cls` -------------------------------------------------

  /// Moves up to `n` free objects of class `cls` into `out`; returns how
  /// many (0 if the central has none: the caller then adds a span).
  size_t take(unsigned cls, HeapSlot* out, size_t n);
  /// Adds a span fresh from new_span() to the class's lists.
  void add_span(unsigned cls, HeapSpan* s);
  /// Takes back `n` objects of class `cls` (from a cache: known valid and
  /// not allocated). Spans that become empty beyond the one the class
  /// keeps are written to `release` (room for `n`); returns their count:
  /// the caller hands them to release_span() under the heap lock.
  size_t give(unsigned cls, const HeapSlot* objs, size_t n, HeapSpan** release);
  /// Detaches the class's kept empty span, if any, for release_span().
  HeapSpan* take_empty(unsigned cls);
  /// Counters of class `cls`.
  void class_stats(unsigned cls, HeapClassStats* out) const;

  // --- Heap lock ------------------------------------------------------------

  /// A new span for class `cls` (all objects free, not yet on a list).
  base::Result<HeapSpan*> new_span(unsigned cls);
  /// Returns a span with no allocated object to the page source.
  void release_span(HeapSpan* s);
  /// A large object of `size` bytes (> kHeapMaxSmallSize), page aligned.
  base::Result<void*> alloc_large(size_t size);
  /// Frees the large object at `addr`; nullptr or the error message.
  const char* free_large(uintptr_t addr);
  /// Registers / unregisters a cache's counters (unregistering folds them
  /// into the heap's totals).
  void attach(HeapCacheCounters* c);
  void detach(HeapCacheCounters* c);
  bool has_caches() const { return caches_ != nullptr; }
  /// Fills the heap-lock-guarded part of `out` (caches, large, pages).
  void heap_stats(HeapStats* out) const;

 private:
  struct ClassState {
    HeapSpan* partial = nullptr;  // Spans with 0 < avail_count < num_objects.
    HeapSpan* empty = nullptr;    // At most one span with every object free.
    uint64_t spans = 0;
    uint64_t central_free = 0;
  };
  struct RecordSlab {
    RecordSlab* next;
  };
  static constexpr size_t kSlabPages = 4;

  base::Result<HeapSpan*> alloc_record();
  void free_record(HeapSpan* s);  // Marks it dead (if it was live) and queues it.
  void unlink_partial(ClassState& c, HeapSpan* s);

  HeapPageSource source_{};
  HeapOptions options_{};
  HeapSpan none_{};  // What unmapped pages look up as.
  HeapPageMap map_;
  ClassState classes_[kHeapNumClasses];
  // Heap lock from here on.
  RecordSlab* slabs_ = nullptr;
  HeapSpan* free_head_ = nullptr;  // FIFO, so dead records stay diagnosable longest.
  HeapSpan* free_tail_ = nullptr;
  uint64_t slab_pages_ = 0;
  uint64_t span_pages_ = 0;
  uint64_t large_objects_ = 0;
  uint64_t large_pages_ = 0;
  HeapCacheCounters* caches_ = nullptr;
  int64_t retired_live_[kHeapNumClasses] = {};  // Counts of detached caches.
  uint64_t retired_quarantined_ = 0;
};

namespace internal {

/// True if all `n` bytes at `p` (8-byte aligned, n % 8 == 0) hold poison;
/// otherwise stores the offset of the first bad byte in `*bad`.
bool heap_poison_intact(const void* p, size_t n, size_t* bad);

}  // namespace internal

/// The shared part of the heap: per-class span lists behind per-class
/// locks, and the page source behind the heap lock. Its methods take those
/// locks themselves, so they may be called from any context in which Lock
/// may be taken (kernel: any but NMI, as the spinlock runs with interrupts
/// off) by a caller holding none of this heap's locks.
template <typename Lock>
class HeapCentral {
 public:
  HeapCentral() = default;
  HeapCentral(const HeapCentral&) = delete;
  HeapCentral& operator=(const HeapCentral&) = delete;

  /// Single-threaded, before any cache attaches. kOutOfMemory if the page
  /// map's root cannot be allocated.
  base::Status init(const HeapPageSource& source, HeapOptions options = {}) { return core_.init(source, options); }

  /// Single-threaded teardown: every page goes back to the source. kBusy
  /// (and nothing is freed) while a cache is still attached.
  base::Status destroy() {
    if (core_.has_caches()) return base::Error::kBusy;
    core_.destroy();
    return base::Status::Ok();
  }

  /// Returns each class's kept empty span to the page source (memory
  /// pressure). O(classes).
  void trim() {
    for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
      HeapSpan* s;
      {
        base::LockGuard<Lock> g(classes_[cls].lock);
        s = class_core(cls).take_empty(cls);
      }
      if (s != nullptr) {
        base::LockGuard<Lock> g(heap_lock_);
        heap_core().release_span(s);
      }
    }
  }

  /// A snapshot of the counters (see HeapStats for its precision).
  HeapStats stats() {
    HeapStats st{};
    {
      base::LockGuard<Lock> g(heap_lock_);
      heap_core().heap_stats(&st);
    }
    for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
      base::LockGuard<Lock> g(classes_[cls].lock);
      class_core(cls).class_stats(cls, &st.classes[cls]);
    }
    return st;
  }

  // --- For HeapCache ----------------------------------------------------------

  HeapCore& core() { return core_; }

  /// Moves between 1 and `n` free objects of `cls` into `out`, adding a
  /// span if the class has none. kOutOfMemory from the page source.
  base::Result<size_t> refill(unsigned cls, HeapSlot* out, size_t n) {
    {
      base::LockGuard<Lock> g(classes_[cls].lock);
      size_t got = class_core(cls).take(cls, out, n);
      if (got > 0) return got;
    }
    base::Result<HeapSpan*> s = base::Error::kOutOfMemory;
    {
      base::LockGuard<Lock> g(heap_lock_);
      s = heap_core().new_span(cls);
    }
    if (!s.ok()) return s.error();
    // Add and take under one hold, so this span's objects are ours even
    // if other CPUs are refilling too: the result is never 0.
    base::LockGuard<Lock> g(classes_[cls].lock);
    class_core(cls).add_span(cls, s.value());
    return class_core(cls).take(cls, out, n);
  }

  /// Returns `n` <= kHeapCacheMaxSlots free objects of `cls`; spans that
  /// become empty go back to the page source.
  void drain(unsigned cls, const HeapSlot* objs, size_t n) {
    HeapSpan* release[kHeapCacheMaxSlots];
    size_t k;
    {
      base::LockGuard<Lock> g(classes_[cls].lock);
      k = class_core(cls).give(cls, objs, n, release);
    }
    if (k == 0) return;
    base::LockGuard<Lock> g(heap_lock_);
    for (size_t i = 0; i < k; ++i) heap_core().release_span(release[i]);
  }

  base::Result<void*> alloc_large(size_t size) {
    base::LockGuard<Lock> g(heap_lock_);
    return heap_core().alloc_large(size);
  }
  const char* free_large(uintptr_t addr) {
    base::LockGuard<Lock> g(heap_lock_);
    return heap_core().free_large(addr);
  }
  void attach(HeapCacheCounters* c) {
    base::LockGuard<Lock> g(heap_lock_);
    heap_core().attach(c);
  }
  void detach(HeapCacheCounters* c) {
    base::LockGuard<Lock> g(heap_lock_);
    heap_core().detach(c);
  }

 private:
  struct alignas(64) ClassLock {  // One cache line each: no false sharing.
    Lock lock;
  };

  // The core's state split by lock: class `cls`'s span lists under its
  // class lock; the page source, span records, page map and large objects
  // under the heap lock. HeapCore itself knows no locks; these say which
  // one each use holds.
  HeapCore& class_core(unsigned cls) REQUIRES(classes_[cls].lock) { return core_; }
  HeapCore& heap_core() REQUIRES(heap_lock_) { return core_; }

  ClassLock classes_[kHeapNumClasses];
  Lock heap_lock_;
  HeapCore core_;
};

}  // namespace mm
