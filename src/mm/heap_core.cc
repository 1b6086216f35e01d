// The kernel heap's central logic: span records, carving spans into
// objects, the per-class span lists, large objects and the counters. Each
// function's lock requirement is in heap_core.h; HeapCentral takes them.
#include "src/mm/heap_core.h"

#include "src/base/assert.h"

namespace mm {

namespace {

using base::MemoryOrder;

// Records per slab: the slab's first record-sized slot holds its link.
constexpr size_t records_per_slab(size_t slab_pages) { return slab_pages * base::kPageSize / sizeof(HeapSpan) - 1; }

// Bits of avail[w] for a span of `n` objects with every object free.
uint64_t full_word(uint32_t n, uint32_t w) {
  uint32_t lo = w * 64;
  if (n >= lo + 64) return ~uint64_t{0};
  if (n <= lo) return 0;
  return (uint64_t{1} << (n - lo)) - 1;
}

bool is_live(uint8_t cls) { return cls < kHeapNumClasses || cls == kHeapSpanLarge; }

}  // namespace

namespace internal {

bool heap_poison_intact(const void* p, size_t n, size_t* bad) {
  constexpr uint64_t kWord = 0x0101'0101'0101'0101ull * kHeapPoisonByte;
  const uint64_t* w = static_cast<const uint64_t*>(p);
  for (size_t i = 0; i < n / 8; ++i) {
    if (w[i] == kWord) continue;
    const uint8_t* b = reinterpret_cast<const uint8_t*>(&w[i]);
    size_t j = 0;
    while (b[j] == kHeapPoisonByte) ++j;
    *bad = i * 8 + j;
    return false;
  }
  return true;
}

}  // namespace internal

base::Status HeapCore::init(const HeapPageSource& source, HeapOptions options) {
  source_ = source;
  options_ = options;
  none_.cls = kHeapSpanUnused;  // base = bytes = 0: contains no address.
  return map_.init(&source_, &none_);
}

void HeapCore::destroy() {
  for (RecordSlab* slab = slabs_; slab != nullptr;) {
    RecordSlab* next = slab->next;
    HeapSpan* recs = reinterpret_cast<HeapSpan*>(reinterpret_cast<uintptr_t>(slab) + sizeof(HeapSpan));
    for (size_t i = 0; i < records_per_slab(kSlabPages); ++i) {
      if (is_live(recs[i].cls)) source_.free_pages(recs[i].base, recs[i].bytes >> base::kPageShift);
    }
    source_.free_pages(reinterpret_cast<uintptr_t>(slab), kSlabPages);
    slab = next;
  }
  map_.destroy();
  for (ClassState& c : classes_) c = ClassState{};
  slabs_ = nullptr;
  free_head_ = free_tail_ = nullptr;
  slab_pages_ = span_pages_ = large_objects_ = large_pages_ = 0;
  caches_ = nullptr;
  for (int64_t& r : retired_live_) r = 0;
  retired_quarantined_ = 0;
}

// --- Records (heap lock) ------------------------------------------------------

base::Result<HeapSpan*> HeapCore::alloc_record() {
  if (free_head_ == nullptr) {
    static_assert(sizeof(RecordSlab) <= sizeof(HeapSpan));
    base::Result<uintptr_t> r = source_.alloc_pages(kSlabPages);
    if (!r.ok()) return r.error();
    RecordSlab* slab = reinterpret_cast<RecordSlab*>(r.value());
    slab->next = slabs_;
    slabs_ = slab;
    slab_pages_ += kSlabPages;
    HeapSpan* recs = reinterpret_cast<HeapSpan*>(r.value() + sizeof(HeapSpan));
    for (size_t i = 0; i < records_per_slab(kSlabPages); ++i) {
      recs[i].cls = kHeapSpanUnused;
      free_record(&recs[i]);
    }
  }
  HeapSpan* s = free_head_;
  free_head_ = s->next;
  if (free_head_ == nullptr) free_tail_ = nullptr;
  // A dead record's pages may still map to it; whatever has not been taken
  // over by a newer span now becomes foreign.
  if (s->cls == kHeapSpanDead) map_.clear_if(s->base, s->bytes >> base::kPageShift, s);
  s->cls = kHeapSpanUnused;
  return s;
}

void HeapCore::free_record(HeapSpan* s) {
  if (is_live(s->cls)) {
    s->former_cls = s->cls;
    s->cls = kHeapSpanDead;
  }
  s->next = nullptr;
  if (free_tail_ != nullptr) {
    free_tail_->next = s;
  } else {
    free_head_ = s;
  }
  free_tail_ = s;
}

// --- Spans (heap lock) --------------------------------------------------------

base::Result<HeapSpan*> HeapCore::new_span(unsigned cls) {
  const HeapClass& hc = heap_class(cls);
  base::Result<HeapSpan*> rr = alloc_record();
  if (!rr.ok()) return rr.error();
  HeapSpan* s = rr.value();
  base::Result<uintptr_t> pr = source_.alloc_pages(hc.span_pages);
  if (!pr.ok()) {
    free_record(s);
    return pr.error();
  }
  s->base = pr.value();
  s->bytes = size_t{hc.span_pages} << base::kPageShift;
  s->object_size = hc.size;
  s->div_magic = hc.div_magic;
  s->carved_bytes = hc.objects * hc.size;
  s->num_objects = static_cast<uint16_t>(hc.objects);
  s->next = s->prev = nullptr;
  s->avail_count = hc.objects;
  for (uint32_t w = 0; w < kHeapSpanWords; ++w) {
    s->allocated[w].store(0, MemoryOrder::kRelaxed);
    s->avail[w] = full_word(hc.objects, w);
  }
  // Every free object holds poison from birth, so the check on allocation
  // needs no "never used" state.
  if (options_.poison) __builtin_memset(reinterpret_cast<void*>(s->base), kHeapPoisonByte, s->bytes);
  s->cls = static_cast<uint8_t>(cls);
  base::Status st = map_.set(s->base, hc.span_pages, s);
  if (!st.ok()) {
    source_.free_pages(s->base, hc.span_pages);
    s->cls = kHeapSpanUnused;
    free_record(s);
    return st.error();
  }
  span_pages_ += hc.span_pages;
  return s;
}

void HeapCore::release_span(HeapSpan* s) {
  DEBUG_ASSERT(s->cls < kHeapNumClasses && s->avail_count == s->num_objects);
  size_t pages = s->bytes >> base::kPageShift;
  free_record(s);  // Dead first: a racing stale free then reports, not writes.
  source_.free_pages(s->base, pages);
  span_pages_ -= pages;
}

base::Result<void*> HeapCore::alloc_large(size_t size) {
  if (size > kHeapMaxLargeSize) return base::Error::kOutOfMemory;
  size_t pages = base::align_up(size, base::kPageSize) >> base::kPageShift;
  base::Result<HeapSpan*> rr = alloc_record();
  if (!rr.ok()) return rr.error();
  HeapSpan* s = rr.value();
  base::Result<uintptr_t> pr = source_.alloc_pages(pages);
  if (!pr.ok()) {
    free_record(s);
    return pr.error();
  }
  s->base = pr.value();
  s->bytes = pages << base::kPageShift;
  s->object_size = 0;
  s->div_magic = 0;
  s->carved_bytes = 0;
  s->num_objects = 1;
  s->avail_count = 0;
  s->next = s->prev = nullptr;
  s->cls = kHeapSpanLarge;
  base::Status st = map_.set(s->base, pages, s);
  if (!st.ok()) {
    source_.free_pages(s->base, pages);
    s->cls = kHeapSpanUnused;
    free_record(s);
    return st.error();
  }
  ++large_objects_;
  large_pages_ += pages;
  return reinterpret_cast<void*>(s->base);
}

const char* HeapCore::free_large(uintptr_t addr) {
  HeapSpan* s = map_.lookup(addr);
  if (s->cls != kHeapSpanLarge) {
    // The caller saw a live large span, which has gone since: a racing
    // double free (its pages may even hold a new small object by now).
    const char* why = diagnose(addr, s);
    return why != nullptr ? why : kHeapErrDoubleFree;
  }
  if (addr != s->base) return kHeapErrInterior;
  size_t pages = s->bytes >> base::kPageShift;
  free_record(s);
  source_.free_pages(s->base, pages);
  --large_objects_;
  large_pages_ -= pages;
  return nullptr;
}

const char* HeapCore::diagnose(uintptr_t addr, const HeapSpan* s) const {
  bool dead = s->cls == kHeapSpanDead;
  uint8_t kind = dead ? s->former_cls : s->cls;
  uintptr_t off = addr - s->base;
  // Unused records, and addresses that only alias the span (see
  // HeapPageMap), are not the heap's.
  if (!is_live(kind) || off >= s->bytes) return kHeapErrForeign;
  if (kind == kHeapSpanLarge) {
    if (off != 0) return kHeapErrInterior;
    return dead ? kHeapErrDoubleFree : nullptr;
  }
  uint32_t idx;
  if (!s->object_at(off, &idx)) return kHeapErrInterior;
  if (dead) return kHeapErrDoubleFree;
  uint64_t word = s->allocated[idx >> 6].load(MemoryOrder::kRelaxed);
  return ((word >> (idx & 63)) & 1) != 0 ? nullptr : kHeapErrDoubleFree;
}

// --- Class lists (class lock) -------------------------------------------------

void HeapCore::unlink_partial(ClassState& c, HeapSpan* s) {
  if (s->prev != nullptr) {
    s->prev->next = s->next;
  } else {
    c.partial = s->next;
  }
  if (s->next != nullptr) s->next->prev = s->prev;
  s->next = s->prev = nullptr;
}

namespace {
template <typename C>
void push_partial(C& c, HeapSpan* s) {
  s->prev = nullptr;
  s->next = c.partial;
  if (c.partial != nullptr) c.partial->prev = s;
  c.partial = s;
}
}  // namespace

void HeapCore::add_span(unsigned cls, HeapSpan* s) {
  ClassState& c = classes_[cls];
  push_partial(c, s);
  ++c.spans;
  c.central_free += s->num_objects;
}

size_t HeapCore::take(unsigned cls, HeapSlot* out, size_t n) {
  ClassState& c = classes_[cls];
  if (c.partial == nullptr && c.empty != nullptr) {
    push_partial(c, c.empty);
    c.empty = nullptr;
  }
  size_t got = 0;
  while (got < n && c.partial != nullptr) {
    HeapSpan* s = c.partial;
    for (uint32_t w = 0; w < kHeapSpanWords && got < n; ++w) {
      uint64_t bits = s->avail[w];
      while (bits != 0 && got < n) {
        uint32_t idx = w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        out[got++] = HeapSlot{reinterpret_cast<void*>(s->base + uintptr_t{idx} * s->object_size), s};
        --s->avail_count;
      }
      s->avail[w] = bits;
    }
    if (s->avail_count == 0) unlink_partial(c, s);
  }
  c.central_free -= got;
  return got;
}

size_t HeapCore::give(unsigned cls, const HeapSlot* objs, size_t n, HeapSpan** release) {
  ClassState& c = classes_[cls];
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    uintptr_t a = reinterpret_cast<uintptr_t>(objs[i].obj);
    HeapSpan* s = objs[i].span;
    uint32_t idx = s->index_of(a - s->base);
    uint64_t bit = uint64_t{1} << (idx & 63);
    DEBUG_ASSERT(s == map_.lookup(a) && s->cls == cls && (s->avail[idx >> 6] & bit) == 0);
    s->avail[idx >> 6] |= bit;
    if (s->avail_count++ == 0) push_partial(c, s);
    ++c.central_free;
    if (s->avail_count == s->num_objects) {
      unlink_partial(c, s);
      if (c.empty == nullptr) {
        c.empty = s;  // Kept, so a class hovering at a span boundary does not thrash.
      } else {
        release[k++] = s;
        --c.spans;
        c.central_free -= s->num_objects;
      }
    }
  }
  return k;
}

HeapSpan* HeapCore::take_empty(unsigned cls) {
  ClassState& c = classes_[cls];
  HeapSpan* s = c.empty;
  if (s == nullptr) return nullptr;
  c.empty = nullptr;
  --c.spans;
  c.central_free -= s->num_objects;
  return s;
}

void HeapCore::class_stats(unsigned cls, HeapClassStats* out) const {
  const ClassState& c = classes_[cls];
  out->size = heap_class(cls).size;
  out->spans = c.spans;
  out->central_free = c.central_free;
}

// --- Caches and counters (heap lock) ------------------------------------------

void HeapCore::attach(HeapCacheCounters* c) {
  c->next = caches_;
  caches_ = c;
}

void HeapCore::detach(HeapCacheCounters* c) {
  HeapCacheCounters** pp = &caches_;
  while (*pp != nullptr && *pp != c) pp = &(*pp)->next;
  if (*pp == nullptr) return;
  *pp = c->next;
  c->next = nullptr;
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    retired_live_[cls] += c->live[cls].load(MemoryOrder::kRelaxed);
  }
  retired_quarantined_ += c->quarantined.load(MemoryOrder::kRelaxed);
}

void HeapCore::heap_stats(HeapStats* out) const {
  int64_t live[kHeapNumClasses];
  uint64_t quarantined = retired_quarantined_;
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) live[cls] = retired_live_[cls];
  for (const HeapCacheCounters* c = caches_; c != nullptr; c = c->next) {
    for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
      live[cls] += c->live[cls].load(MemoryOrder::kRelaxed);
    }
    quarantined += c->quarantined.load(MemoryOrder::kRelaxed);
  }
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    // An object allocated on one CPU and freed on another can be seen
    // freed before it is seen allocated: clamp the transient negative.
    uint64_t v = live[cls] > 0 ? static_cast<uint64_t>(live[cls]) : 0;
    out->classes[cls].live_objects = v;
    out->classes[cls].live_bytes = v * heap_class(cls).size;
    out->small_live_objects += v;
    out->small_live_bytes += v * heap_class(cls).size;
  }
  out->large_live_objects = large_objects_;
  out->large_live_bytes = large_pages_ << base::kPageShift;
  out->span_pages = span_pages_;
  out->metadata_pages = slab_pages_ + map_.node_pages();
  out->pages_held = span_pages_ + large_pages_ + out->metadata_pages;
  out->quarantined = quarantined;
}

}  // namespace mm
