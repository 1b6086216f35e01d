// Host tests for the kernel heap core: the size-class table, the page map,
// the cache/central fast and slow paths, error detection, poison, the
// counters against a reference model, and a multi-threaded torture run.
// The page source is aligned_alloc with a ledger, so every leak shows.
#include "src/mm/heap_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "src/base/host_mutex.h"

namespace mm {
namespace {

using base::Error;

constexpr size_t kPage = base::kPageSize;

// A page source over aligned_alloc that records every run it hands out,
// fills new runs with garbage (the heap must not assume zeroes) and can be
// told to fail.
class TestPages {
 public:
  ~TestPages() {
    for (auto& [addr, pages] : live_) std::free(reinterpret_cast<void*>(addr));
  }

  HeapPageSource source() { return {&TestPages::alloc, &TestPages::free, this}; }

  size_t live_pages() {
    std::lock_guard<std::mutex> g(mu_);
    return live_pages_;
  }
  size_t live_runs() {
    std::lock_guard<std::mutex> g(mu_);
    return live_.size();
  }
  // Fail every allocation after `n` more have succeeded (-1: never).
  void fail_after(long n) {
    std::lock_guard<std::mutex> g(mu_);
    fail_after_ = n;
  }

 private:
  static base::Result<uintptr_t> alloc(void* ctx, size_t pages) {
    auto* self = static_cast<TestPages*>(ctx);
    std::lock_guard<std::mutex> g(self->mu_);
    if (self->fail_after_ == 0) return Error::kOutOfMemory;
    if (self->fail_after_ > 0) --self->fail_after_;
    void* p = std::aligned_alloc(kPage, pages * kPage);
    if (p == nullptr) return Error::kOutOfMemory;
    std::memset(p, 0xA5, pages * kPage);
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    self->live_[a] = pages;
    self->live_pages_ += pages;
    return a;
  }
  static void free(void* ctx, uintptr_t addr, size_t pages) {
    auto* self = static_cast<TestPages*>(ctx);
    std::lock_guard<std::mutex> g(self->mu_);
    auto it = self->live_.find(addr);
    if (it == self->live_.end() || it->second != pages) {
      ADD_FAILURE() << "page source: bad free of 0x" << std::hex << addr << " (" << std::dec << pages << " pages)";
      return;
    }
    self->live_.erase(it);
    self->live_pages_ -= pages;
    std::free(reinterpret_cast<void*>(addr));
  }

  std::mutex mu_;
  std::map<uintptr_t, size_t> live_;
  size_t live_pages_ = 0;
  long fail_after_ = -1;
};

// HostMutex, not std::mutex: an annotated capability, so the central's
// REQUIRES and GUARDED_BY are checked in this build too.
using Central = HeapCentral<base::HostMutex>;
using Cache = HeapCache<base::HostMutex>;

// A central with one cache, torn down (and checked for leaks) at the end.
struct Heap {
  explicit Heap(HeapOptions options = {}) {
    source = pages.source();
    EXPECT_TRUE(central.init(source, options).ok());
    cache.init(&central);
  }
  ~Heap() {
    if (attached) cache.destroy();
    EXPECT_TRUE(central.destroy().ok());
    EXPECT_EQ(pages.live_runs(), 0u) << "pages leaked to the page source";
  }
  void* alloc(size_t n) {
    base::Result<void*> r = cache.alloc(n);
    EXPECT_TRUE(r.ok()) << "alloc(" << n << "): " << (cache.last_error() ? cache.last_error() : "");
    return r.ok() ? r.value() : nullptr;
  }
  void free(void* p) {
    base::Status s = cache.free(p);
    EXPECT_TRUE(s.ok()) << "free(" << p << "): " << (cache.last_error() ? cache.last_error() : "");
  }

  TestPages pages;
  HeapPageSource source{};
  Central central;
  Cache cache;
  bool attached = true;
};

size_t class_size(size_t n) {
  return n <= kHeapMaxSmallSize ? heap_class(size_to_class(n)).size : base::align_up(n, kPage);
}

// --- Size classes ------------------------------------------------------------

TEST(HeapSizeClasses, EverySizeMapsToTheSmallestClassThatFits) {
  for (size_t size = 0; size <= kHeapMaxSmallSize; ++size) {
    unsigned cls = size_to_class(size);
    ASSERT_LT(cls, kHeapNumClasses) << size;
    EXPECT_GE(heap_class(cls).size, size) << size;
    if (cls > 0) EXPECT_LT(heap_class(cls - 1).size, size) << size;
  }
}

TEST(HeapSizeClasses, SpansRespectTheirRules) {
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    const HeapClass& c = heap_class(cls);
    size_t bytes = size_t{c.span_pages} * kPage;
    EXPECT_TRUE(base::is_pow2(c.span_pages)) << cls;
    EXPECT_LE(c.span_pages, kHeapMaxSpanPages) << cls;
    EXPECT_EQ(c.objects, bytes / c.size) << cls;
    EXPECT_LE(c.objects, kHeapMaxSpanObjects) << cls;
    EXPECT_LE((bytes - size_t{c.objects} * c.size) * 8, bytes) << "tail waste > 12.5%, class " << cls;
    EXPECT_LE(c.cache_cap, kHeapCacheMaxSlots) << cls;
    EXPECT_EQ(c.cache_cap % 2, 0u) << cls;
  }
}

TEST(HeapSizeClasses, MagicDivisionIsExactOverWholeSpans) {
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    const HeapClass& c = heap_class(cls);
    HeapSpan s{};
    s.div_magic = c.div_magic;
    for (uint64_t off = 0; off < uint64_t{c.span_pages} * kPage; ++off) {
      ASSERT_EQ(s.index_of(off), off / c.size) << "class " << cls << " offset " << off;
    }
  }
}

// object_at() trusts the class table's rule (bytes * size <= 2^32) to make
// "low half below the magic" mean "no remainder": check every offset.
TEST(HeapSizeClasses, ObjectAtFindsExactlyTheObjectStarts) {
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    const HeapClass& c = heap_class(cls);
    HeapSpan s{};
    s.div_magic = c.div_magic;
    s.carved_bytes = c.objects * c.size;
    const uint64_t bytes = uint64_t{c.span_pages} * kPage;
    for (uint64_t off = 0; off < bytes + c.size; ++off) {
      const bool starts = off < s.carved_bytes && off % c.size == 0;
      uint32_t idx = ~0u;
      ASSERT_EQ(s.object_at(off, &idx), starts) << "class " << cls << " offset " << off;
      if (starts) ASSERT_EQ(idx, off / c.size) << "class " << cls << " offset " << off;
    }
    // Addresses below the span (a wrapped offset) and far above it.
    for (uint64_t off : {~uint64_t{0}, 0 - uint64_t{c.size}, uint64_t{1} << 32, (uint64_t{1} << 32) * c.size,
                         uint64_t{c.size} << 40}) {
      uint32_t idx;
      EXPECT_FALSE(s.object_at(off, &idx)) << "class " << cls << " offset " << off;
    }
  }
}

TEST(HeapSizeClasses, AlignmentRule) {
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    const HeapClass& c = heap_class(cls);
    EXPECT_TRUE(base::is_pow2(c.align));
    EXPECT_EQ(c.size % c.align, 0u);
    EXPECT_NE(c.size % (2 * c.align), 0u) << "align is the largest power of two dividing size";
    EXPECT_GE(c.align, 8u);
    if (c.size >= 16) EXPECT_GE(c.align, 16u);
    if (base::is_pow2(c.size)) EXPECT_EQ(c.align, c.size);
  }
}

// --- Page map -----------------------------------------------------------------

TEST(HeapPageMap, KernelHalfRangesAcrossNodeBoundaries) {
  TestPages pages;
  HeapPageSource src = pages.source();
  HeapPageMap map;
  auto* none = reinterpret_cast<HeapSpan*>(0x3000);
  ASSERT_TRUE(map.init(&src, none).ok());
  auto* a = reinterpret_cast<HeapSpan*>(0x1000);
  auto* b = reinterpret_cast<HeapSpan*>(0x2000);
  // Straddles a leaf (16 MiB) and a mid node (64 GiB) boundary.
  const uintptr_t base = 0xffff'8010'0000'0000ull - 3 * kPage;
  ASSERT_TRUE(map.set(base, 6, a).ok());
  EXPECT_EQ(map.lookup(base - 1), none);
  for (uintptr_t x = base; x < base + 6 * kPage; x += 511) EXPECT_EQ(map.lookup(x), a) << std::hex << x;
  EXPECT_EQ(map.lookup(base + 6 * kPage), none);
  EXPECT_EQ(map.lookup(0x7fff'0000'0000ull), none);   // A lower-half neighbour stays empty.
  ASSERT_TRUE(map.set(base + 2 * kPage, 2, b).ok());  // Taken over by another span.
  map.clear_if(base, 6, a);
  EXPECT_EQ(map.lookup(base), none);
  EXPECT_EQ(map.lookup(base + 2 * kPage), b);
  EXPECT_EQ(map.lookup(base + 3 * kPage + 100), b);
  EXPECT_EQ(map.lookup(base + 4 * kPage), none);
  EXPECT_EQ(map.node_pages(), 7 * HeapPageMap::kNodePages);  // root, 2 mids, 2 leaves, 2 empty
  map.destroy();
  EXPECT_EQ(pages.live_runs(), 0u);
}

TEST(HeapPageMap, InitOutOfMemoryLeaksNothing) {
  TestPages pages;
  HeapPageSource src = pages.source();
  for (long n = 0; n < 3; ++n) {
    HeapPageMap map;
    pages.fail_after(n);
    EXPECT_EQ(map.init(&src, nullptr).error(), Error::kOutOfMemory);
    EXPECT_EQ(pages.live_runs(), 0u);
  }
}

TEST(HeapPageMap, OutOfMemoryChangesNothing) {
  TestPages pages;
  HeapPageSource src = pages.source();
  HeapPageMap map;
  auto* none = reinterpret_cast<HeapSpan*>(0x3000);
  ASSERT_TRUE(map.init(&src, none).ok());
  pages.fail_after(1);  // The mid node succeeds, the leaf fails.
  auto* a = reinterpret_cast<HeapSpan*>(0x1000);
  base::Status s = map.set(0xffff'8000'0000'0000ull, 1, a);
  EXPECT_EQ(s.error(), Error::kOutOfMemory);
  pages.fail_after(-1);
  EXPECT_EQ(map.lookup(0xffff'8000'0000'0000ull), none);
  map.destroy();
  EXPECT_EQ(pages.live_runs(), 0u);
}

// --- Basic allocation ---------------------------------------------------------

TEST(Heap, EveryClassIsAlignedAcrossSeveralSpans) {
  Heap h;
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    const HeapClass& c = heap_class(cls);
    std::vector<void*> objs;
    for (uint32_t i = 0; i < 2 * c.objects + 3; ++i) {
      void* p = h.alloc(c.size);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % c.align, 0u) << "class " << cls;
      objs.push_back(p);
    }
    for (void* p : objs) h.free(p);
  }
  for (size_t n : {4097ul, 8192ul, 100000ul}) {
    void* p = h.alloc(n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kPage, 0u);
    h.free(p);
  }
}

TEST(Heap, RoundTripsKeepContentsAndReportUsableSize) {
  Heap h;
  std::vector<std::pair<uint8_t*, size_t>> objs;
  for (size_t n = 0; n <= 3 * kPage; n += 7) {
    auto* p = static_cast<uint8_t*>(h.alloc(n));
    ASSERT_NE(p, nullptr);
    std::memset(p, static_cast<int>(n & 0xff), n);
    base::Result<size_t> u = h.cache.usable_size(p);
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u.value(), n == 0 ? 8 : class_size(n)) << n;
    objs.push_back({p, n});
  }
  std::set<uint8_t*> distinct;
  for (auto& [p, n] : objs) {
    EXPECT_TRUE(distinct.insert(p).second) << "handed out twice";
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(p[i], n & 0xff) << "object of " << n << " overwritten";
  }
  for (auto& [p, n] : objs) h.free(p);
  EXPECT_EQ(h.central.stats().small_live_objects, 0u);
}

TEST(Heap, FreeThenAllocReusesTheObjectLifo) {
  Heap h;
  void* p = h.alloc(100);
  h.free(p);
  EXPECT_EQ(h.alloc(100), p);
  h.free(p);
}

TEST(Heap, FreeOfNullIsANoOp) {
  Heap h;
  EXPECT_TRUE(h.cache.free(nullptr).ok());
}

// --- Cache batching and span return --------------------------------------------

TEST(Heap, RefillAndDrainMoveHalfTheCache) {
  Heap h;
  const unsigned cls = size_to_class(16);
  const HeapClass& c = heap_class(cls);
  const uint32_t half = c.cache_cap / 2;
  ASSERT_GT(c.objects, 4 * c.cache_cap);  // All of it within one span.
  std::vector<void*> objs;
  objs.push_back(h.alloc(16));
  EXPECT_EQ(h.cache.cached(cls), half - 1);
  EXPECT_EQ(h.central.stats().classes[cls].central_free, c.objects - half);
  for (uint32_t i = 1; i < half; ++i) objs.push_back(h.alloc(16));
  EXPECT_EQ(h.cache.cached(cls), 0u);
  objs.push_back(h.alloc(16));  // A second refill.
  EXPECT_EQ(h.cache.cached(cls), half - 1);
  EXPECT_EQ(h.central.stats().classes[cls].central_free, c.objects - 2 * half);
  for (uint32_t i = 0; i < c.cache_cap; ++i) objs.push_back(h.alloc(16));
  // Free until the cache is full, then one more drains half of it.
  uint32_t cached = h.cache.cached(cls);
  while (cached < c.cache_cap) {
    h.free(objs.back());
    objs.pop_back();
    EXPECT_EQ(h.cache.cached(cls), ++cached);
  }
  uint64_t central_before = h.central.stats().classes[cls].central_free;
  h.free(objs.back());
  objs.pop_back();
  EXPECT_EQ(h.cache.cached(cls), half + 1);
  EXPECT_EQ(h.central.stats().classes[cls].central_free, central_before + half);
  for (void* p : objs) h.free(p);
}

TEST(Heap, EmptySpansGoBackToThePageSourceKeepingOnePerClass) {
  Heap h;
  const unsigned cls = size_to_class(512);
  const HeapClass& c = heap_class(cls);
  const size_t baseline = h.pages.live_pages();
  std::vector<void*> objs;
  for (uint32_t i = 0; i < 4 * c.objects; ++i) objs.push_back(h.alloc(512));
  HeapStats st = h.central.stats();
  EXPECT_EQ(st.classes[cls].spans, 4u);
  EXPECT_EQ(st.span_pages, 4u * c.span_pages);
  for (void* p : objs) h.free(p);
  h.cache.flush();
  st = h.central.stats();
  EXPECT_EQ(st.classes[cls].spans, 1u) << "one empty span is kept";
  EXPECT_EQ(st.span_pages, c.span_pages);
  EXPECT_EQ(st.classes[cls].live_objects, 0u);
  h.central.trim();
  st = h.central.stats();
  EXPECT_EQ(st.classes[cls].spans, 0u);
  EXPECT_EQ(st.span_pages, 0u);
  EXPECT_EQ(st.pages_held, st.metadata_pages);
  EXPECT_EQ(h.pages.live_pages(), st.metadata_pages);
  EXPECT_GE(h.pages.live_pages(), baseline);  // Record slabs and map nodes stay.
}

// --- Error detection ----------------------------------------------------------

struct ErrorCase : ::testing::Test {
  void expect_error(base::Status s, const char* msg) {
    EXPECT_EQ(s.error(), Error::kInvalidArgument);
    EXPECT_STREQ(h.cache.last_error(), msg);
  }
  Heap h;
};

TEST_F(ErrorCase, DoubleFreeWhileCachedInCentralAndAfterSpanRelease) {
  void* p = h.alloc(48);
  void* q = h.alloc(48);
  h.free(p);
  expect_error(h.cache.free(p), kHeapErrDoubleFree);  // p sits in the cache
  h.cache.flush();
  expect_error(h.cache.free(p), kHeapErrDoubleFree);  // p sits in the central
  h.free(q);
  h.cache.flush();
  h.central.trim();  // The span is gone; its record remembers it.
  EXPECT_EQ(h.central.stats().span_pages, 0u);
  expect_error(h.cache.free(p), kHeapErrDoubleFree);
  expect_error(h.cache.free(static_cast<uint8_t*>(q) + 8), kHeapErrInterior);
  EXPECT_EQ(h.cache.usable_size(p).error(), Error::kInvalidArgument);
}

TEST_F(ErrorCase, InteriorTailAndForeignPointers) {
  auto* p = static_cast<uint8_t*>(h.alloc(48));
  for (size_t off : {1ul, 8ul, 16ul, 47ul}) expect_error(h.cache.free(p + off), kHeapErrInterior);
  // The tail of a 48-byte span: 4096 % 48 = 16 bytes no object covers.
  const HeapClass& c = heap_class(size_to_class(48));
  HeapSpan* s = h.central.core().lookup(reinterpret_cast<uintptr_t>(p));
  ASSERT_NE(s, nullptr);
  auto* tail = reinterpret_cast<uint8_t*>(s->base) + size_t{c.objects} * c.size;
  expect_error(h.cache.free(tail), kHeapErrInterior);
  int on_stack = 0;
  expect_error(h.cache.free(&on_stack), kHeapErrForeign);
  void* host = std::malloc(64);
  expect_error(h.cache.free(host), kHeapErrForeign);
  std::free(host);
  expect_error(h.cache.free(reinterpret_cast<void*>(0xffff'8000'1234'5000ull)), kHeapErrForeign);
  EXPECT_EQ(h.cache.usable_size(p + 1).error(), Error::kInvalidArgument);
  EXPECT_EQ(h.cache.realloc(p + 1, 10).error(), Error::kInvalidArgument);
  // None of that disturbed the real object.
  EXPECT_EQ(h.cache.usable_size(p).value(), 48u);
  h.free(p);
  EXPECT_EQ(h.central.stats().small_live_objects, 0u);
}

// The kernel's kmalloc/kfree fast paths: try_alloc/try_free do the cache's
// work or hand it back to alloc/free with nothing changed, and report a bad
// free themselves.
TEST_F(ErrorCase, TryAllocAndTryFreeHandBackOrFail) {
  EXPECT_EQ(h.cache.try_alloc(48), nullptr);  // an empty bin: alloc() refills
  void* p = h.alloc(48);
  auto* q = static_cast<uint8_t*>(h.alloc(48));
  unsigned freed_cls = kHeapNumClasses;
  EXPECT_EQ(h.cache.try_free(p, freed_cls), nullptr);
  EXPECT_EQ(freed_cls, size_to_class(48));  // what kfree credits the account with
  EXPECT_EQ(h.cache.try_alloc(48), p);      // LIFO, from the bin
  EXPECT_EQ(h.cache.try_free(q + 8, freed_cls), kHeapErrInterior);
  EXPECT_EQ(h.cache.try_free(q, freed_cls), nullptr);
  EXPECT_EQ(h.cache.try_free(q, freed_cls), kHeapErrDoubleFree);
  // Not small objects: handed back untouched.
  void* big = h.alloc(3 * kPage);
  EXPECT_EQ(h.cache.try_free(big, freed_cls), kHeapTryFreeSlow);
  h.free(big);
  int on_stack = 0;
  EXPECT_EQ(h.cache.try_free(&on_stack, freed_cls), kHeapTryFreeSlow);
  // A full bin: handed back with the object still allocated, so free()
  // frees it exactly once.
  const unsigned cls = size_to_class(48);
  std::vector<void*> objs;
  for (int i = 0; i < 200; ++i) objs.push_back(h.alloc(48));
  bool slow = false;
  for (void* o : objs) {
    if (h.cache.cached(cls) == heap_class(cls).cache_cap) {
      EXPECT_EQ(h.cache.try_free(o, freed_cls), kHeapTryFreeSlow);
      slow = true;
    }
    h.free(o);
  }
  EXPECT_TRUE(slow);
  h.free(p);
  EXPECT_EQ(h.central.stats().small_live_objects, 0u);
}

TEST_F(ErrorCase, LargeObjects) {
  const size_t held = h.pages.live_pages();
  auto* p = static_cast<uint8_t*>(h.alloc(3 * kPage + 1));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x11, 3 * kPage + 1);
  EXPECT_EQ(h.cache.usable_size(p).value(), 4 * kPage);
  HeapStats st = h.central.stats();
  EXPECT_EQ(st.large_live_objects, 1u);
  EXPECT_EQ(st.large_live_bytes, 4 * kPage);
  expect_error(h.cache.free(p + kPage), kHeapErrInterior);
  expect_error(h.cache.free(p + 8), kHeapErrInterior);
  const size_t with_p = h.pages.live_pages();
  h.free(p);
  EXPECT_EQ(h.pages.live_pages(), with_p - 4) << "large pages go straight back";
  st = h.central.stats();
  EXPECT_EQ(st.large_live_objects, 0u);
  EXPECT_EQ(st.large_live_bytes, 0u);
  expect_error(h.cache.free(p), kHeapErrDoubleFree);
  expect_error(h.cache.free(p + 2 * kPage), kHeapErrInterior);
  EXPECT_GE(h.pages.live_pages(), held);
  EXPECT_EQ(h.cache.alloc(kHeapMaxLargeSize + 1).error(), Error::kOutOfMemory);
  EXPECT_EQ(h.cache.alloc(SIZE_MAX).error(), Error::kOutOfMemory);
  EXPECT_STREQ(h.cache.last_error(), kHeapErrOutOfMemory);
}

TEST(Heap, AReusedRecordForgetsItsOldPages) {
  Heap h;
  auto* p = static_cast<uint8_t*>(h.alloc(5 * kPage));
  HeapSpan* r = h.central.core().lookup(reinterpret_cast<uintptr_t>(p));
  h.free(p);
  ASSERT_EQ(h.central.core().lookup(reinterpret_cast<uintptr_t>(p)), r);
  ASSERT_EQ(r->cls, kHeapSpanDead);
  std::vector<void*> hold;
  for (int i = 0; i < 1000 && r->cls == kHeapSpanDead; ++i) hold.push_back(h.alloc(kPage + 1));
  ASSERT_NE(r->cls, kHeapSpanDead) << "records are reused oldest first";
  // Each old page now maps to nothing or to a live span that holds it.
  for (uintptr_t a = reinterpret_cast<uintptr_t>(p); a < reinterpret_cast<uintptr_t>(p) + 5 * kPage; a += kPage) {
    HeapSpan* s = h.central.core().lookup(a);
    if (s->cls == kHeapSpanUnused) {
      EXPECT_EQ(s->bytes, 0u);
      continue;
    }
    EXPECT_EQ(s->cls, kHeapSpanLarge);
    EXPECT_LE(s->base, a);
    EXPECT_LT(a - s->base, s->bytes);
  }
  for (void* o : hold) h.free(o);
}

TEST(Heap, OutOfMemoryAtEveryPageSourceCallLeaksNothing) {
  // Fail the page source at its n-th call for every n a short workload
  // reaches: every failure is a clean kOutOfMemory.
  for (long n = 0; n < 40; ++n) {
    Heap h;
    h.pages.fail_after(n);
    std::vector<void*> objs;
    int failures = 0;
    for (int i = 0; i < 300; ++i) {
      size_t size = (i % 7 == 0) ? 5 * kPage : 16 + (i * 37) % 4000;
      base::Result<void*> r = h.cache.alloc(size);
      if (r.ok()) {
        objs.push_back(r.value());
      } else {
        EXPECT_EQ(r.error(), Error::kOutOfMemory);
        ++failures;
      }
    }
    EXPECT_GT(failures, 0) << n;
    h.pages.fail_after(-1);
    for (void* p : objs) h.free(p);
    HeapStats st = h.central.stats();
    EXPECT_EQ(st.small_live_objects + st.large_live_objects, 0u);
  }
}

TEST(Heap, InitFailsCleanlyWithoutPages) {
  TestPages pages;
  HeapPageSource src = pages.source();
  pages.fail_after(0);
  Central central;
  EXPECT_EQ(central.init(src).error(), Error::kOutOfMemory);
}

TEST(Heap, DestroyIsRefusedWhileACacheIsAttached) {
  Heap h;
  EXPECT_EQ(h.central.destroy().error(), Error::kBusy);
}

TEST(Heap, DestroyReturnsEverythingEvenWithLiveObjects) {
  Heap h;
  for (int i = 0; i < 1000; ++i) ASSERT_NE(h.alloc(static_cast<size_t>(i * 13 % 6000)), nullptr);
  // ~Heap destroys and checks the page source is empty.
}

// --- realloc ------------------------------------------------------------------

TEST(Heap, ReallocInPlaceWithinAClassAndCopiesAcross) {
  Heap h;
  EXPECT_EQ(h.cache.realloc(nullptr, 40).ok(), true);
  auto* p = static_cast<uint8_t*>(h.cache.realloc(nullptr, 33).value());
  std::memset(p, 0x5A, 33);
  EXPECT_EQ(h.cache.realloc(p, 48).value(), p) << "33 and 48 share a class";
  EXPECT_EQ(h.cache.realloc(p, 40).value(), p);
  auto* q = static_cast<uint8_t*>(h.cache.realloc(p, 1000).value());
  EXPECT_NE(q, p);
  for (int i = 0; i < 33; ++i) ASSERT_EQ(q[i], 0x5A);
  EXPECT_EQ(h.cache.usable_size(p).error(), Error::kInvalidArgument) << "old object freed";
  std::memset(q, 0x3C, 1000);
  auto* l = static_cast<uint8_t*>(h.cache.realloc(q, 3 * kPage).value());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(l[i], 0x3C);
  EXPECT_EQ(h.cache.realloc(l, 3 * kPage - 100).value(), l) << "same page count";
  auto* s = static_cast<uint8_t*>(h.cache.realloc(l, 10).value());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(s[i], 0x3C);
  EXPECT_EQ(h.cache.realloc(l, 10).error(), Error::kInvalidArgument);
  EXPECT_STREQ(h.cache.last_error(), kHeapErrDoubleFree);
  h.pages.fail_after(0);
  EXPECT_EQ(h.cache.realloc(s, 100 * kPage).error(), Error::kOutOfMemory);
  h.pages.fail_after(-1);
  EXPECT_EQ(h.cache.usable_size(s).value(), 16u) << "untouched after a failed realloc";
  h.free(s);
  HeapStats st = h.central.stats();
  EXPECT_EQ(st.small_live_objects + st.large_live_objects, 1u);  // The first realloc(nullptr, 40).
}

// --- Poison -------------------------------------------------------------------

TEST(Heap, PoisonCatchesAWriteAfterFree) {
  Heap h(HeapOptions{.poison = true});
  std::vector<void*> objs;
  for (int i = 0; i < 200; ++i) objs.push_back(h.alloc(96));  // Fresh spans check clean.
  auto* p = static_cast<uint8_t*>(objs.back());
  objs.pop_back();
  std::memset(p, 0, 96);
  h.free(p);
  for (int i = 0; i < 96; ++i) ASSERT_EQ(p[i], kHeapPoisonByte) << "freed object is poisoned";
  p[77] = 1;                                  // The write after free.
  base::Result<void*> r = h.cache.alloc(96);  // LIFO: p again.
  EXPECT_EQ(r.error(), Error::kFault);
  EXPECT_STREQ(h.cache.last_error(), kHeapErrPoison);
  EXPECT_EQ(h.cache.last_fault_addr(), reinterpret_cast<uintptr_t>(p) + 77);
  EXPECT_EQ(h.central.stats().quarantined, 1u);
  void* q = h.alloc(96);
  EXPECT_NE(q, p) << "the corrupted object is withheld";
  objs.push_back(q);
  for (void* o : objs) h.free(o);
  EXPECT_EQ(h.central.stats().classes[size_to_class(96)].live_objects, 0u);
}

// --- Counters against a reference model ---------------------------------------

TEST(Heap, CountersMatchAReferenceModelUnderRandomWork) {
  Heap h;
  std::mt19937_64 rng(12345);
  std::map<void*, size_t> model;  // object -> requested size
  auto check = [&] {
    HeapStats st = h.central.stats();
    uint64_t per_class[kHeapNumClasses] = {};
    uint64_t large = 0, large_bytes = 0, small_bytes = 0;
    for (auto& [p, n] : model) {
      if (n > kHeapMaxSmallSize) {
        ++large;
        large_bytes += base::align_up(n, kPage);
      } else {
        ++per_class[size_to_class(n)];
        small_bytes += heap_class(size_to_class(n)).size;
      }
    }
    uint64_t small = 0;
    for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
      const HeapClassStats& c = st.classes[cls];
      ASSERT_EQ(c.live_objects, per_class[cls]) << "class " << cls;
      ASSERT_EQ(c.live_bytes, per_class[cls] * heap_class(cls).size);
      // Every object of every span is live, cached or held by the central.
      ASSERT_EQ(c.spans * heap_class(cls).objects, c.live_objects + h.cache.cached(cls) + c.central_free)
          << "class " << cls;
      small += per_class[cls];
    }
    ASSERT_EQ(st.small_live_objects, small);
    ASSERT_EQ(st.small_live_bytes, small_bytes);
    ASSERT_EQ(st.large_live_objects, large);
    ASSERT_EQ(st.large_live_bytes, large_bytes);
    ASSERT_EQ(st.pages_held, h.pages.live_pages());
  };
  for (int step = 0; step < 60000; ++step) {
    bool do_alloc = model.empty() || rng() % 100 < (step < 30000 ? 60 : 40);
    if (do_alloc) {
      size_t n = rng() % 50 == 0 ? kHeapMaxSmallSize + rng() % (6 * kPage) : rng() % (kHeapMaxSmallSize + 1);
      void* p = h.alloc(n);
      ASSERT_NE(p, nullptr);
      ASSERT_TRUE(model.emplace(p, n).second) << "object handed out twice";
      std::memset(p, static_cast<int>(reinterpret_cast<uintptr_t>(p) >> 4), n < 64 ? n : 64);
    } else {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      auto* p = static_cast<uint8_t*>(it->first);
      size_t n = it->second;
      for (size_t i = 0; i < (n < 64 ? n : 64); ++i) {
        ASSERT_EQ(p[i], static_cast<uint8_t>(reinterpret_cast<uintptr_t>(p) >> 4)) << "corrupted";
      }
      h.free(p);
      model.erase(it);
    }
    if (step % 997 == 0) check();
    if (step % 10007 == 0) h.cache.flush();
  }
  check();
  for (auto& [p, n] : model) h.free(p);
  model.clear();
  check();
  h.cache.flush();
  h.central.trim();
  HeapStats st = h.central.stats();
  EXPECT_EQ(st.span_pages, 0u);
  EXPECT_EQ(st.pages_held, st.metadata_pages);
}

// --- Threads ------------------------------------------------------------------

TEST(Heap, ThreadsWithOwnCachesAndCrossThreadFrees) {
  constexpr int kThreads = 4;
  constexpr int kOps = 40000;
  TestPages pages;
  HeapPageSource src = pages.source();
  Central central;
  ASSERT_TRUE(central.init(src).ok());

  struct Inbox {
    std::mutex mu;
    std::vector<std::pair<void*, size_t>> objs;
  };
  Inbox inboxes[kThreads];
  std::atomic<int> errors{0};

  auto tag_of = [](void* p, size_t n) { return static_cast<uint8_t>((reinterpret_cast<uintptr_t>(p) >> 3) ^ n); };
  auto worker = [&](int id) {
    Cache cache;
    cache.init(&central);
    std::mt19937_64 rng(static_cast<uint64_t>(id) * 7919 + 1);
    std::vector<std::pair<void*, size_t>> mine;
    auto release = [&](void* p, size_t n) {
      auto* b = static_cast<uint8_t*>(p);
      for (size_t i = 0; i < (n < 32 ? n : 32); ++i) {
        if (b[i] != tag_of(p, n)) {
          errors.fetch_add(1);
          break;
        }
      }
      if (!cache.free(p).ok()) errors.fetch_add(1);
    };
    for (int op = 0; op < kOps; ++op) {
      uint64_t r = rng();
      if (r % 16 == 0) {  // Free what others sent us.
        std::vector<std::pair<void*, size_t>> in;
        {
          std::lock_guard<std::mutex> g(inboxes[id].mu);
          in.swap(inboxes[id].objs);
        }
        for (auto& [p, n] : in) release(p, n);
      } else if (mine.size() < 200 && r % 3 != 0) {
        size_t n = (r >> 8) % 97 == 0 ? kHeapMaxSmallSize + (r >> 20) % (3 * kPage) : (r >> 8) % 2048;
        base::Result<void*> a = cache.alloc(n);
        if (!a.ok()) {
          errors.fetch_add(1);
          continue;
        }
        std::memset(a.value(), tag_of(a.value(), n), n < 32 ? n : 32);
        mine.push_back({a.value(), n});
      } else if (!mine.empty()) {
        size_t i = (r >> 8) % mine.size();
        auto obj = mine[i];
        mine[i] = mine.back();
        mine.pop_back();
        int to = static_cast<int>((r >> 32) % kThreads);
        if (to == id) {
          release(obj.first, obj.second);
        } else {
          std::lock_guard<std::mutex> g(inboxes[to].mu);
          inboxes[to].objs.push_back(obj);
        }
      }
    }
    for (auto& [p, n] : mine) release(p, n);
    cache.destroy();
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();

  // Leftover cross-thread frees, through a fresh cache.
  Cache last;
  last.init(&central);
  for (auto& box : inboxes) {
    for (auto& [p, n] : box.objs) {
      if (!last.free(p).ok()) errors.fetch_add(1);
    }
  }
  last.destroy();
  EXPECT_EQ(errors.load(), 0);
  HeapStats st = central.stats();
  EXPECT_EQ(st.small_live_objects, 0u);
  EXPECT_EQ(st.small_live_bytes, 0u);
  EXPECT_EQ(st.large_live_objects, 0u);
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
    EXPECT_EQ(st.classes[cls].spans * heap_class(cls).objects, st.classes[cls].central_free) << cls;
  }
  central.trim();
  st = central.stats();
  EXPECT_EQ(st.span_pages, 0u);
  EXPECT_EQ(st.pages_held, st.metadata_pages);
  EXPECT_EQ(pages.live_pages(), st.metadata_pages);
  EXPECT_TRUE(central.destroy().ok());
  EXPECT_EQ(pages.live_runs(), 0u);
}

TEST(Heap, ConcurrentDoubleFreeOfOneObjectSucceedsExactlyOnce) {
  TestPages pages;
  HeapPageSource src = pages.source();
  Central central;
  ASSERT_TRUE(central.init(src).ok());
  Cache owner;
  owner.init(&central);
  for (int round = 0; round < 200; ++round) {
    void* p = owner.alloc(64).value();
    std::atomic<int> ok{0}, bad{0};
    std::atomic<bool> go{false};
    auto racer = [&] {
      Cache c;
      c.init(&central);
      while (!go.load()) {
      }
      (c.free(p).ok() ? ok : bad).fetch_add(1);
      c.destroy();
    };
    std::thread a(racer), b(racer);
    go.store(true);
    a.join();
    b.join();
    ASSERT_EQ(ok.load(), 1);
    ASSERT_EQ(bad.load(), 1);
  }
  owner.destroy();
  EXPECT_EQ(central.stats().small_live_objects, 0u);
  EXPECT_TRUE(central.destroy().ok());
  EXPECT_EQ(pages.live_runs(), 0u);
}

}  // namespace
}  // namespace mm
