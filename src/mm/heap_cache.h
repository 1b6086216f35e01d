// The kernel heap's per-CPU front end: a stack of free objects per size
// class, so the common kmalloc/kfree touches no lock, only this CPU's cache
// and the object's allocation bit (see heap_core.h for the central behind it).
#pragma once

#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/heap_core.h"
#include "src/mm/heap_page_map.h"
#include "src/mm/heap_size_classes.h"

namespace mm {

/// HeapCache::try_free()'s answer when free() must do the work; not an error.
inline constexpr char kHeapTryFreeSlow[] = "heap: free takes the slow path";

/// One CPU's cache: per class a stack of free objects. alloc() and free()
/// touch only this cache and the object's allocation bit unless the stack
/// runs empty or full, when half of it is refilled from or drained to the
/// central in one locked batch.
///
/// Contexts: owned by one CPU (or, in host tests, one thread); call with
/// preemption disabled, and with interrupts disabled if any interrupt
/// handler on this CPU uses the heap (the cache has no lock to protect it
/// from re-entry). Never from NMI. The slow paths take the central's locks.
///
/// Errors never panic: a bad pointer or a double free returns
/// kInvalidArgument and sets last_error() to one of the kHeapErr* messages;
/// the kernel wrapper turns that into a PANIC with a backtrace.
template <typename Lock>
class HeapCache {
 public:
  HeapCache() = default;
  HeapCache(const HeapCache&) = delete;
  HeapCache& operator=(const HeapCache&) = delete;

  /// Attaches to `central` (initialized). Once per cache.
  void init(HeapCentral<Lock>* central) {
    central_ = central;
    core_ = &central->core();
    root_ = core_->map_root();
    poison_ = core_->options().poison;
    for (unsigned kind = 0; kind < kSpanKinds; ++kind) {
      Bin& b = bins_[kind];
      if (kind >= kHeapNumClasses) {
        // Pseudo-classes: never allocated from, never freed into. Null
        // pointers make both fast-path tests fail.
        b = Bin{};
        continue;
      }
      b.base = b.top = slots_[kind];
      // Poison mode sends every alloc and free down the slow path, which
      // checks and fills: the fast path then needs no poison test.
      b.alloc_floor = poison_ ? b.base + kHeapCacheMaxSlots : b.base;
      b.free_limit = poison_ ? b.base : b.base + heap_class(kind).cache_cap;
      counters_.live[kind].store(0, base::MemoryOrder::kRelaxed);
    }
    counters_.quarantined.store(0, base::MemoryOrder::kRelaxed);
    central->attach(&counters_);
  }

  /// Flushes and detaches (a CPU going offline, a test thread exiting).
  /// Its counters live on in the central's totals.
  void destroy() {
    flush();
    central_->detach(&counters_);
    central_ = nullptr;
  }

  /// `size` bytes (0 is treated as 1), aligned as HeapClass documents;
  /// large objects are page aligned. kOutOfMemory if the page source is
  /// exhausted or size > kHeapMaxLargeSize; kFault in poison mode if the
  /// object's poison was overwritten (it is then withheld forever, and
  /// last_fault_addr() names the first bad byte).
  base::Result<void*> alloc(size_t size) {
    if (__builtin_expect(size > kHeapMaxSmallSize, 0)) return alloc_large(size);
    if (void* p = try_alloc(size)) return p;
    return alloc_slow(size_to_class(size));
  }

  /// alloc()'s fast path alone, for a small `size` (<= kHeapMaxSmallSize):
  /// an object from this cache, or nullptr (nothing changed) when alloc()
  /// must do it. It calls nothing, so a caller's critical section around it
  /// needs no registers saved across a call.
  [[gnu::always_inline]] void* try_alloc(size_t size) {
    const unsigned cls = size_to_class(size);
    Bin& b = bins_[cls];
    if (__builtin_expect(b.top <= b.alloc_floor, 0)) return nullptr;
    const HeapSlot slot = *--b.top;
    mark_allocated(slot);
    bump(cls, 1);
    // Tells a caller testing the result that this path never yields null.
    __builtin_assume(slot.obj != nullptr);
    return slot.obj;
  }

  /// Frees an object from alloc()/realloc() (on any cache of the same
  /// central). Null is a no-op. kInvalidArgument for a pointer the heap
  /// does not own, one not at the start of an object, or a double free.
  /// `cls_out`, if given, is set to the object's class for a small object
  /// (kHeapNumClasses or above for anything else).
  base::Status free(void* p, unsigned* cls_out = nullptr) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    HeapSpan* s = HeapPageMap::lookup_in(root_, a);
    const unsigned cls = s->cls;
    if (cls_out != nullptr) *cls_out = cls;
    if (__builtin_expect(cls >= kHeapNumClasses, 0)) return free_other(a, s);
    if (const char* why = unmark(s, a)) return fail(why);
    Bin& b = bins_[cls];
    if (__builtin_expect(b.top >= b.free_limit, 0)) return free_slow(cls, HeapSlot{p, s});
    *b.top++ = HeapSlot{p, s};
    bump(cls, -1);
    return base::Status::Ok();
  }

  /// free()'s fast path alone (calls nothing, as try_alloc): nullptr once
  /// the object is in this cache; kHeapTryFreeSlow, with nothing changed,
  /// when free() must do it (not a small object, a full bin, poison mode);
  /// otherwise the error message of a bad pointer or a double free (not
  /// stored in last_error(): one store fewer on the fast path). The bin is
  /// checked before the allocation bit, so a double free is reported here,
  /// never left to a retry (another CPU could allocate the object in
  /// between and hide it). On success `cls` is the object's class.
  [[gnu::always_inline]] const char* try_free(void* p, unsigned& cls_out) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    HeapSpan* s = HeapPageMap::lookup_in(root_, a);
    const unsigned cls = s->cls;
    cls_out = cls;
    // One test for both "not a small object" (a pseudo-class's bin is
    // always full) and "bin full".
    Bin& b = bins_[cls];
    if (__builtin_expect(b.top >= b.free_limit, 0)) return kHeapTryFreeSlow;
    if (const char* why = unmark(s, a)) return why;
    *b.top++ = HeapSlot{p, s};
    bump(cls, -1);
    return nullptr;
  }

  /// C realloc: null `p` allocates; same class (or, for large objects, the
  /// same page count) returns `p` unchanged; otherwise allocates, copies
  /// min(old usable size, size) bytes and frees `p`. On any error `p` is
  /// untouched and still owned by the caller.
  base::Result<void*> realloc(void* p, size_t size) {
    if (p == nullptr) return alloc(size);
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const HeapSpan* s = core_->lookup(a);
    if (const char* why = core_->diagnose(a, s)) return fail(why);
    size_t old_size;
    if (s->cls < kHeapNumClasses) {
      old_size = s->object_size;
      if (size <= kHeapMaxSmallSize && size_to_class(size) == s->cls) return p;
    } else {
      old_size = s->bytes;
      if (size > kHeapMaxSmallSize && size <= kHeapMaxLargeSize && base::align_up(size, base::kPageSize) == s->bytes) {
        return p;
      }
    }
    base::Result<void*> n = alloc(size);
    if (!n.ok()) return n;
    __builtin_memcpy(n.value(), p, size < old_size ? size : old_size);
    base::Status st = free(p);
    if (!st.ok()) return st.error();  // Only if another CPU freed p meanwhile (a caller bug).
    return n;
  }

  /// Bytes usable at `p` (its class size, or its pages for a large
  /// object). kInvalidArgument as free() for a pointer that is not a live
  /// object.
  base::Result<size_t> usable_size(const void* p) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const HeapSpan* s = core_->lookup(a);
    if (const char* why = core_->diagnose(a, s)) return fail(why);
    return s->cls < kHeapNumClasses ? size_t{s->object_size} : s->bytes;
  }

  /// Returns every cached object to the central.
  void flush() {
    for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
      Bin& b = bins_[cls];
      if (b.count() > 0) central_->drain(cls, b.base, b.count());
      b.top = b.base;
    }
  }

  /// The message of the last failed call (static storage), or nullptr.
  const char* last_error() const { return last_error_; }
  /// After a kFault from alloc(): the first corrupted byte.
  uintptr_t last_fault_addr() const { return last_fault_addr_; }
  /// Objects of class `cls` cached here (tests, debugging).
  uint32_t cached(unsigned cls) const { return bins_[cls].count(); }

 private:
  // A class's stack is [base, top) in slots_[cls]. Pointers rather than
  // counts, so the fast paths compare and step them with no index
  // arithmetic; 32 bytes, so a class's bin is one shift away.
  struct Bin {
    HeapSlot* top;          // One past the newest cached object.
    HeapSlot* alloc_floor;  // alloc() takes its slow path while top <= this.
    HeapSlot* free_limit;   // free() takes its slow path once top >= this.
    HeapSlot* base;         // slots_[cls]; null for a pseudo-class.
    uint32_t count() const { return static_cast<uint32_t>(top - base); }
  };
  // Small classes, then the pseudo-classes of heap_core.h (large, dead,
  // unused), whose bins stay empty with limit 0.
  static constexpr unsigned kSpanKinds = kHeapSpanUnused + 1;
  static_assert(kHeapSpanLarge >= kHeapNumClasses && kHeapSpanDead < kSpanKinds);

  // Only this CPU writes its counters, so a load and a store (no locked
  // RMW) suffice; relaxed because stats() wants values, not ordering.
  void bump(unsigned cls, int64_t d) {
    counters_.live[cls].store(counters_.live[cls].load(base::MemoryOrder::kRelaxed) + d, base::MemoryOrder::kRelaxed);
  }

  base::Error fail(const char* why) {
    last_error_ = why;
    return base::Error::kInvalidArgument;
  }

  // Sets the allocation bit of an object from this cache (so in a live
  // span: no checks). The bit's atomicity is all that matters: handing the
  // object between CPUs is ordered by whatever handed over the pointer.
  static void mark_allocated(const HeapSlot& slot) {
    HeapSpan* s = slot.span;
    [[maybe_unused]] bool was = s->mark_allocated(s->index_of(reinterpret_cast<uintptr_t>(slot.obj) - s->base));
    DEBUG_ASSERT(!was);
  }

  // Clears the allocation bit of the small object at `a` in `s`, its
  // span: nullptr, or why not (nothing then changed).
  [[gnu::always_inline]] static const char* unmark(HeapSpan* s, uintptr_t a) {
    uint32_t idx;
    if (__builtin_expect(!s->object_at(a - s->base, &idx), 0)) return kHeapErrInterior;
    if (__builtin_expect(!s->mark_free(idx), 0)) return kHeapErrDoubleFree;
    return nullptr;
  }

  // alloc() with an empty bin, or in poison mode.
  __attribute__((noinline)) base::Result<void*> alloc_slow(unsigned cls) {
    Bin& b = bins_[cls];
    if (b.count() == 0) {
      base::Result<size_t> got = central_->refill(cls, b.base, heap_class(cls).cache_cap / 2);
      if (!got.ok()) {
        last_error_ = kHeapErrOutOfMemory;
        return got.error();
      }
      b.top = b.base + got.value();
    }
    const HeapSlot slot = *--b.top;
    void* p = slot.obj;
    mark_allocated(slot);
    size_t bad;
    if (poison_ && !internal::heap_poison_intact(p, heap_class(cls).size, &bad)) {
      // Withheld: its allocation bit stays set and no one holds it, so it
      // is never handed out or freed again (its span stays until destroy()).
      counters_.quarantined.store(counters_.quarantined.load(base::MemoryOrder::kRelaxed) + 1,
                                  base::MemoryOrder::kRelaxed);
      last_error_ = kHeapErrPoison;
      last_fault_addr_ = reinterpret_cast<uintptr_t>(p) + bad;
      return base::Error::kFault;
    }
    bump(cls, 1);
    return p;
  }

  __attribute__((noinline)) base::Result<void*> alloc_large(size_t size) {
    base::Result<void*> r = central_->alloc_large(size);
    if (!r.ok()) last_error_ = kHeapErrOutOfMemory;
    return r;
  }

  // free()'s tail when the bin is full, or in poison mode. Drains the
  // oldest half (the bottom of the stack): the top is warmest.
  __attribute__((noinline)) base::Status free_slow(unsigned cls, HeapSlot slot) {
    if (poison_) __builtin_memset(slot.obj, kHeapPoisonByte, heap_class(cls).size);
    Bin& b = bins_[cls];
    const uint32_t cap = heap_class(cls).cache_cap;
    if (b.count() == cap) {
      const uint32_t half = cap / 2;
      central_->drain(cls, b.base, half);
      for (uint32_t i = half; i < cap; ++i) b.base[i - half] = b.base[i];
      b.top -= half;
    }
    *b.top++ = slot;
    bump(cls, -1);
    return base::Status::Ok();
  }

  __attribute__((noinline)) base::Status free_other(uintptr_t a, HeapSpan* s) {
    if (a == 0) return base::Status::Ok();
    // free_large() re-checks under the heap lock what this racy read saw.
    bool large = s->cls == kHeapSpanLarge;
    const char* why = large ? central_->free_large(a) : core_->diagnose(a, s);
    // diagnose() finding a live small object here means the span went live
    // between the two reads: only a racing stale pointer does that.
    if (!large && why == nullptr) why = kHeapErrForeign;
    if (why != nullptr) return fail(why);
    return base::Status::Ok();
  }

  Bin bins_[kSpanKinds];
  HeapSlot slots_[kHeapNumClasses][kHeapCacheMaxSlots];
  HeapCentral<Lock>* central_ = nullptr;
  HeapCore* core_ = nullptr;
  const HeapPageMap::Node* root_ = nullptr;
  bool poison_ = false;
  const char* last_error_ = nullptr;
  uintptr_t last_fault_addr_ = 0;
  HeapCacheCounters counters_;
};

}  // namespace mm
