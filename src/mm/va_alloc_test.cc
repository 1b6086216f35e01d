// Host tests for the VA range allocator: alignment, a randomized workload
// against a reference model of intervals, reuse, exhaustion, every misuse
// free() must reject, page-source failure, and metadata accounting.
#include "src/mm/va_alloc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

namespace mm {
namespace {

using base::Error;

constexpr uint64_t kPage = base::kPageSize;
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;
constexpr uint64_t kKernelBase = 0xffff'c000'0000'0000;

// Hands out real host pages (filled with junk, to catch missing zeroing),
// counts what is outstanding, and can be told to fail.
class FakePages {
 public:
  ~FakePages() {
    for (void* p : live_) std::free(p);
  }
  VaPageSource source() { return {&FakePages::alloc, &FakePages::release, this}; }

  static base::Result<base::VirtAddr> alloc(void* ctx) {
    auto* self = static_cast<FakePages*>(ctx);
    ++self->calls_;
    if (self->should_fail()) return Error::kOutOfMemory;
    void* p = std::aligned_alloc(kPage, kPage);
    std::memset(p, 0xA5, kPage);
    self->live_.insert(p);
    return base::virt_of(p);
  }
  static void release(void* ctx, base::VirtAddr page) {
    auto* self = static_cast<FakePages*>(ctx);
    void* p = base::as_ptr(page);
    ASSERT_EQ(self->live_.erase(p), 1u) << "free_page of a page not handed out";
    std::free(p);
  }

  size_t outstanding() const { return live_.size(); }
  uint64_t calls() const { return calls_; }
  void set_fail(bool fail) { fail_ = fail; }
  // Let `n` more allocations succeed, then fail.
  void fail_after(int n) { fail_after_ = n; }

 private:
  bool should_fail() {
    if (fail_after_ >= 0 && fail_after_-- == 0) fail_ = true;
    return fail_;
  }

  std::set<void*> live_;
  uint64_t calls_ = 0;
  bool fail_ = false;
  int fail_after_ = -1;
};

// The tests below speak raw integers (window arithmetic, comparisons with
// constants); this adapter converts at the typed interface, which
// TypedInterface checks on its own.
class RawVa : public VaAllocator {
 public:
  base::Status init(uint64_t base, uint64_t size, const VaPageSource& source, unsigned max_order = kVaMaxOrder) {
    return VaAllocator::init(base::VirtAddr(base), size, source, max_order);
  }
  base::Result<uint64_t> alloc(uint64_t bytes) {
    base::Result<base::VirtAddr> r = VaAllocator::alloc(bytes);
    if (!r.ok()) return r.error();
    return r.value().value();
  }
  base::Status free(uint64_t va, uint64_t bytes) { return VaAllocator::free(base::VirtAddr(va), bytes); }
  uint64_t base() const { return VaAllocator::base().value(); }
};

struct Fixture {
  explicit Fixture(uint64_t base = kKernelBase, uint64_t size = kTiB, unsigned max_order = kVaMaxOrder) {
    base::Status s = va.init(base, size, pages.source(), max_order);
    EXPECT_TRUE(s.ok()) << (va.last_error() ? va.last_error() : "");
  }
  // Metadata the allocator reports is exactly what the page source has out.
  void check_pages() { EXPECT_EQ(va.stats().metadata_pages, pages.outstanding()); }

  FakePages pages;  // Declared first: outlives the allocator's pointers into it.
  RawVa va;
};

// Everything about a VaStats/VaClassStats, for "nothing changed" checks.
std::vector<uint64_t> snapshot(const VaAllocator& va) {
  VaStats s = va.stats();
  std::vector<uint64_t> v = {s.num_classes, s.in_use, s.bytes_reserved, s.metadata_pages};
  for (unsigned k = 0; k < va.num_classes(); ++k) {
    VaClassStats c = va.class_stats(k);
    v.insert(v.end(), {c.in_use, c.free_slots, c.high_water, c.orphaned});
  }
  return v;
}

TEST(VaAllocTest, InitRejectsBadWindows) {
  FakePages pages;
  VaPageSource src = pages.source();
  {
    RawVa va;
    EXPECT_EQ(va.init(kKernelBase + 1, kTiB, src).error(), Error::kInvalidArgument);
  }
  {
    RawVa va;
    EXPECT_EQ(va.init(kKernelBase, kTiB + 8, src).error(), Error::kInvalidArgument);
  }
  {
    RawVa va;
    EXPECT_EQ(va.init(kKernelBase, 0, src).error(), Error::kInvalidArgument);
  }
  {
    RawVa va;  // Wraps past 2^64.
    EXPECT_EQ(va.init(0xffff'ffff'ffff'0000, 0x20000, src).error(), Error::kInvalidArgument);
  }
  {
    RawVa va;
    VaPageSource bad = src;
    bad.free_page = nullptr;
    EXPECT_EQ(va.init(kKernelBase, kTiB, bad).error(), Error::kInvalidArgument);
  }
  {
    RawVa va;
    EXPECT_EQ(va.init(kKernelBase, kTiB, src, kVaMaxOrder + 1).error(), Error::kInvalidArgument);
  }
  {
    RawVa va;
    ASSERT_TRUE(va.init(kKernelBase, kTiB, src).ok());
    EXPECT_EQ(va.init(kKernelBase, kTiB, src).error(), Error::kInvalidArgument);
    EXPECT_TRUE(va.alloc(1).ok()) << "still usable after a rejected re-init";
  }
  EXPECT_EQ(pages.calls(), 2u) << "init takes no pages; the one alloc takes root and leaf";
}

TEST(VaAllocTest, KernelWindowLayout) {
  Fixture f;
  // 1 TiB / 25 classes is < 64 GiB, so the 64 GiB class does not fit; 24 do.
  EXPECT_EQ(f.va.num_classes(), 24u);
  EXPECT_EQ(f.va.class_stats(23).class_bytes, 32 * kGiB);
  EXPECT_EQ(f.va.class_stats(23).capacity, 1u);
  EXPECT_EQ(f.va.class_stats(24).capacity, 0u);
  // Stack-sized class: ~42 GiB / 32 KiB slots.
  EXPECT_GT(f.va.class_stats(3).capacity, 1'000'000u);
  // Order 0 is capped by the bitmap's reach.
  EXPECT_LE(f.va.class_stats(0).capacity, kVaMaxSlotsPerClass);
  EXPECT_EQ(f.pages.outstanding(), 0u);
}

TEST(VaAllocTest, WindowEndingAt2To64) {
  Fixture f(0xffff'ff80'0000'0000, 512 * kGiB);
  ASSERT_GT(f.va.num_classes(), 0u);
  unsigned top = f.va.num_classes() - 1;
  uint64_t bytes = f.va.class_stats(top).class_bytes;
  base::Result<uint64_t> r = f.va.alloc(bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value() % bytes, 0u);
  EXPECT_LE(r.value() - f.va.base(), f.va.size() - bytes) << "range ends inside the window";
  EXPECT_TRUE(f.va.free(r.value(), bytes).ok());
}

TEST(VaAllocTest, MaxOrderAndSlotCap) {
  // One class over 4 TiB: 2^30 page slots, capped at the bitmap's 2^24.
  Fixture f(kKernelBase, 4 * kTiB, /*max_order=*/0);
  EXPECT_EQ(f.va.num_classes(), 1u);
  EXPECT_EQ(f.va.class_stats(0).capacity, kVaMaxSlotsPerClass);
  EXPECT_EQ(f.va.class_bytes(kPage + 1).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.alloc(kPage).value(), kKernelBase);
}

TEST(VaAllocTest, ClassBytes) {
  Fixture f;
  EXPECT_EQ(f.va.class_bytes(1).value(), kPage);
  EXPECT_EQ(f.va.class_bytes(kPage).value(), kPage);
  EXPECT_EQ(f.va.class_bytes(kPage + 1).value(), 2 * kPage);
  EXPECT_EQ(f.va.class_bytes(16 * kKiB + kPage).value(), 32 * kKiB);  // Stack + guard.
  EXPECT_EQ(f.va.class_bytes(32 * kGiB).value(), 32 * kGiB);
  EXPECT_EQ(f.va.class_bytes(0).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.class_bytes(32 * kGiB + 1).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.class_bytes(~uint64_t{0}).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.alloc(0).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.alloc(32 * kGiB + 1).error(), Error::kInvalidArgument);
}

TEST(VaAllocTest, RangesAlignedToClassAndInsideTheirSubWindow) {
  Fixture f;
  for (unsigned k = 0; k < f.va.num_classes(); ++k) {
    uint64_t bytes = kPage << k;
    // Odd request sizes inside the class round up to it.
    uint64_t ask = k == 0 ? 1 : (bytes / 2) + 1;
    uint64_t n = std::min<uint64_t>(3, f.va.class_stats(k).capacity);
    for (uint64_t i = 0; i < n; ++i) {
      base::Result<uint64_t> r = f.va.alloc(ask);
      ASSERT_TRUE(r.ok()) << "order " << k;
      uint64_t va = r.value();
      EXPECT_EQ(va % kPage, 0u);
      EXPECT_EQ(va % bytes, 0u) << "order " << k << " va 0x" << std::hex << va;
      EXPECT_GE(va, f.va.base());
      EXPECT_LE(va - f.va.base(), f.va.size() - bytes);
      EXPECT_EQ(f.va.class_stats(k).in_use, i + 1);
    }
  }
  f.check_pages();
}

TEST(VaAllocTest, FreedSlotIsReusedLifo) {
  Fixture f;
  uint64_t a = f.va.alloc(20 * kKiB).value();
  uint64_t b = f.va.alloc(20 * kKiB).value();
  EXPECT_NE(a, b);
  ASSERT_TRUE(f.va.free(a, 20 * kKiB).ok());
  ASSERT_TRUE(f.va.free(b, 32 * kKiB).ok());  // Any size of the same class.
  EXPECT_EQ(f.va.class_stats(3).free_slots, 2u);
  EXPECT_EQ(f.va.alloc(17 * kKiB).value(), b);
  EXPECT_EQ(f.va.alloc(17 * kKiB).value(), a);
  EXPECT_EQ(f.va.class_stats(3).high_water, 2u) << "reuse, not bump";
  EXPECT_EQ(f.va.class_stats(3).free_slots, 0u);
}

TEST(VaAllocTest, ExhaustionAndRecovery) {
  // 64 pages: five sub-windows of 12 pages (orders 0..4; the last, 16 pages,
  // takes the remainder and holds one 16-page slot).
  Fixture f(0x1000'0000, 64 * kPage);
  ASSERT_EQ(f.va.num_classes(), 5u);
  EXPECT_EQ(f.va.class_stats(0).capacity, 12u);
  EXPECT_EQ(f.va.class_stats(3).capacity, 1u);  // Pages [36, 48): one aligned at 40.
  EXPECT_EQ(f.va.class_stats(4).capacity, 1u);
  std::vector<uint64_t> got;
  for (int i = 0; i < 12; ++i) got.push_back(f.va.alloc(kPage).value());
  EXPECT_EQ(std::set<uint64_t>(got.begin(), got.end()).size(), 12u);
  EXPECT_EQ(f.va.alloc(kPage).error(), Error::kOutOfMemory);
  // Other classes are independent.
  uint64_t big = f.va.alloc(16 * kPage).value();
  EXPECT_EQ(f.va.alloc(16 * kPage).error(), Error::kOutOfMemory);
  ASSERT_TRUE(f.va.free(got[5], kPage).ok());
  EXPECT_EQ(f.va.alloc(kPage).value(), got[5]);
  EXPECT_EQ(f.va.alloc(kPage).error(), Error::kOutOfMemory);
  for (uint64_t va : got) ASSERT_TRUE(f.va.free(va, kPage).ok());
  ASSERT_TRUE(f.va.free(big, 16 * kPage).ok());
  EXPECT_TRUE(f.va.alloc(16 * kPage).ok());
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(f.va.alloc(kPage).ok());
  EXPECT_EQ(f.va.alloc(kPage).error(), Error::kOutOfMemory);
  f.check_pages();
}

TEST(VaAllocTest, EveryMisuseIsRejectedAndChangesNothing) {
  Fixture f(0x1000'0000, 64 * kPage);  // Sub-windows of 12 pages.
  uint64_t base = f.va.base();
  uint64_t p0 = f.va.alloc(kPage).value();      // Order 0.
  uint64_t p1 = f.va.alloc(2 * kPage).value();  // Order 1.
  uint64_t p1b = f.va.alloc(2 * kPage).value();
  ASSERT_TRUE(f.va.free(p1b, 2 * kPage).ok());
  std::vector<uint64_t> before = snapshot(f.va);

  struct Case {
    const char* what;
    uint64_t va;
    uint64_t bytes;
  };
  const Case cases[] = {
      {"below the window", base - kPage, kPage},
      {"at the window's end", base + 64 * kPage, kPage},
      {"last page of the window, wrong class", base + 63 * kPage, kPage},
      {"far outside", 0, kPage},
      {"misaligned inside a slot", p1 + kPage, 2 * kPage},
      {"not page aligned", p0 + 8, kPage},
      {"size of a smaller class", p1, kPage},
      {"size of a larger class", p0, 2 * kPage},
      {"size 0", p0, 0},
      {"size above the largest class", p0, 1ull << 40},
      {"beyond the bump pointer", p1 + 4 * kPage, 2 * kPage},
      {"in-class, never handed out", base + 11 * kPage, kPage},
      {"slot 0 of a class never used", base + 24 * kPage, 4 * kPage},
      {"double free", p1b, 2 * kPage},
  };
  for (const Case& c : cases) {
    base::Status s = f.va.free(c.va, c.bytes);
    EXPECT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.error(), Error::kInvalidArgument) << c.what;
    EXPECT_NE(f.va.last_error(), nullptr) << c.what;
    EXPECT_EQ(snapshot(f.va), before) << c.what;
  }
  // The real frees still work afterwards, and only once.
  EXPECT_TRUE(f.va.free(p0, kPage).ok());
  EXPECT_TRUE(f.va.free(p1, 2 * kPage).ok());
  EXPECT_EQ(f.va.free(p0, kPage).error(), Error::kInvalidArgument);
  // A slot reallocated and freed again is a fresh allocation, not a double free.
  uint64_t again = f.va.alloc(kPage).value();
  EXPECT_EQ(again, p0);
  EXPECT_TRUE(f.va.free(again, kPage).ok());
  EXPECT_EQ(f.va.free(again, kPage).error(), Error::kInvalidArgument);
}

TEST(VaAllocTest, RemainderBelongsToTheLastClass) {
  // 70 pages: sub-windows of 17 pages; the last (order 3) spans pages
  // [51, 70) and holds one aligned slot at page 56.
  Fixture f(0x1000'0000, 70 * kPage);
  ASSERT_EQ(f.va.num_classes(), 4u);
  EXPECT_EQ(f.va.class_stats(3).capacity, 1u);
  uint64_t base = f.va.base();
  EXPECT_EQ(f.va.alloc(8 * kPage).value(), base + 56 * kPage);
  EXPECT_EQ(f.va.alloc(8 * kPage).error(), Error::kOutOfMemory);
  EXPECT_EQ(f.va.free(base + 68 * kPage, kPage).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.free(base + 68 * kPage, 8 * kPage).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.free(base + 64 * kPage, 8 * kPage).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.free(base + 48 * kPage, 8 * kPage).error(), Error::kInvalidArgument);
  EXPECT_TRUE(f.va.free(base + 56 * kPage, 8 * kPage).ok());
}

TEST(VaAllocTest, DoubleFreeDetectedAcrossBitmapLeaves) {
  Fixture f(kKernelBase, kTiB);
  std::vector<uint64_t> v;
  for (int i = 0; i < 70'000; ++i) v.push_back(f.va.alloc(kPage).value());  // Three leaves.
  for (int i : {0, 32'767, 32'768, 65'536, 69'999}) {
    ASSERT_TRUE(f.va.free(v[i], kPage).ok());
    EXPECT_EQ(f.va.free(v[i], kPage).error(), Error::kInvalidArgument) << i;
  }
  EXPECT_EQ(f.va.free(v[69'999] + kPage, kPage).error(), Error::kInvalidArgument);
  // Exactly at the bump pointer, where no leaf page exists yet.
  uint64_t last = 0;
  while (f.va.class_stats(0).high_water < 3 * 32'768) last = f.va.alloc(kPage).value();
  EXPECT_EQ(f.va.class_stats(0).free_slots, 0u);
  EXPECT_EQ(f.va.free(last + kPage, kPage).error(), Error::kInvalidArgument);
}

TEST(VaAllocTest, PageSourceFailureOnAllocChangesNothing) {
  Fixture f;
  f.pages.set_fail(true);
  std::vector<uint64_t> before = snapshot(f.va);
  EXPECT_EQ(f.va.alloc(kPage).error(), Error::kOutOfMemory);
  EXPECT_EQ(snapshot(f.va), before);
  EXPECT_EQ(f.pages.outstanding(), 0u);
  f.pages.set_fail(false);
  // The root page succeeds and the leaf fails: the root goes back too.
  f.pages.fail_after(1);
  EXPECT_EQ(f.va.alloc(kPage).error(), Error::kOutOfMemory);
  EXPECT_EQ(snapshot(f.va), before);
  EXPECT_EQ(f.pages.outstanding(), 0u);
  f.pages.set_fail(false);

  // Fail on a leaf page while the root exists: slot 32768 needs a new leaf.
  std::vector<uint64_t> v;
  for (int i = 0; i < 32'768; ++i) v.push_back(f.va.alloc(kPage).value());
  size_t pages = f.pages.outstanding();
  f.pages.set_fail(true);
  before = snapshot(f.va);
  EXPECT_EQ(f.va.alloc(kPage).error(), Error::kOutOfMemory);
  EXPECT_EQ(snapshot(f.va), before);
  EXPECT_EQ(f.pages.outstanding(), pages);
  // The first free needs a chunk page too: the slot is orphaned, not lost.
  ASSERT_TRUE(f.va.free(v[7], kPage).ok());
  EXPECT_EQ(f.va.class_stats(0).orphaned, 1u);
  f.pages.set_fail(false);
  ASSERT_TRUE(f.va.free(v[8], kPage).ok());
  EXPECT_EQ(f.va.alloc(kPage).value(), v[8]);
  uint64_t next = f.va.alloc(kPage).value();
  EXPECT_EQ(next, v.back() + kPage) << "recovered: bump continues into a new leaf";
  f.check_pages();
}

TEST(VaAllocTest, PageSourceFailureOnFreeOrphansTheSlot) {
  Fixture f;
  uint64_t a = f.va.alloc(kPage).value();
  uint64_t b = f.va.alloc(kPage).value();
  f.pages.set_fail(true);
  ASSERT_TRUE(f.va.free(a, kPage).ok()) << "free never fails for memory";
  EXPECT_EQ(f.va.class_stats(0).orphaned, 1u);
  EXPECT_EQ(f.va.class_stats(0).free_slots, 0u);
  EXPECT_EQ(f.va.class_stats(0).in_use, 1u);
  EXPECT_EQ(f.va.free(a, kPage).error(), Error::kInvalidArgument) << "still a double free";
  f.pages.set_fail(false);
  uint64_t c = f.va.alloc(kPage).value();
  EXPECT_NE(c, a) << "an orphan is not reused";
  ASSERT_TRUE(f.va.free(b, kPage).ok());
  ASSERT_TRUE(f.va.free(c, kPage).ok());
  f.va.trim();
  EXPECT_EQ(f.pages.outstanding(), 0u);
  EXPECT_EQ(f.va.class_stats(0).orphaned, 0u);
  EXPECT_EQ(f.va.alloc(kPage).value(), a) << "trim restarted the class";
}

TEST(VaAllocTest, SpareChunkAvoidsThrashAtAChunkBoundary) {
  Fixture f;
  std::vector<uint64_t> v;
  for (int i = 0; i < 3000; ++i) v.push_back(f.va.alloc(kPage).value());
  // Fill exactly one chunk (1021 slots), then oscillate across its edge.
  for (int i = 0; i < 1021; ++i) ASSERT_TRUE(f.va.free(v[i], kPage).ok());
  uint64_t calls = f.pages.calls();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(f.va.free(v[2000], kPage).ok());    // Needs a second chunk.
    ASSERT_EQ(f.va.alloc(kPage).value(), v[2000]);  // Empties it again.
  }
  EXPECT_LE(f.pages.calls(), calls + 1);
  f.check_pages();
}

// Randomized alloc/free over several classes, checked against a model of
// the live intervals: no overlap, inside the window, aligned to the class.
TEST(VaAllocTest, RandomWorkloadMatchesModel) {
  Fixture f(kKernelBase, 16 * kGiB);
  std::mt19937_64 rng(12345);
  std::map<uint64_t, uint64_t> live;                 // va -> class bytes
  std::vector<std::pair<uint64_t, uint64_t>> order;  // For picking a random victim.
  const uint64_t sizes[] = {1, kPage, 5 * kPage, 20 * kKiB, 64 * kKiB, 1 << 20, 3 << 20};
  for (int step = 0; step < 200'000; ++step) {
    bool do_alloc = live.empty() || rng() % 100 < 55;
    if (do_alloc) {
      uint64_t ask = sizes[rng() % std::size(sizes)] + rng() % 3 * 17;
      uint64_t cb = f.va.class_bytes(ask).value();
      base::Result<uint64_t> r = f.va.alloc(ask);
      if (!r.ok()) {
        ASSERT_EQ(r.error(), Error::kOutOfMemory);
        continue;
      }
      uint64_t va = r.value();
      ASSERT_EQ(va % cb, 0u);
      ASSERT_GE(va, f.va.base());
      ASSERT_LE(va - f.va.base(), f.va.size() - cb);
      auto next = live.lower_bound(va);
      if (next != live.end()) ASSERT_LE(va + cb, next->first) << "overlaps the next range";
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second, va) << "overlaps the previous range";
      }
      live[va] = cb;
      order.emplace_back(va, cb);
    } else {
      size_t i = rng() % order.size();
      auto [va, cb] = order[i];
      order[i] = order.back();
      order.pop_back();
      ASSERT_TRUE(f.va.free(va, cb).ok());
      live.erase(va);
    }
    if (step % 4096 == 0) {
      ASSERT_EQ(f.va.stats().in_use, live.size());
      f.check_pages();
    }
  }
  uint64_t reserved = 0;
  for (auto& [va, cb] : live) reserved += cb;
  EXPECT_EQ(f.va.stats().bytes_reserved, reserved);
  for (auto& [va, cb] : live) ASSERT_TRUE(f.va.free(va, cb).ok());
  EXPECT_EQ(f.va.stats().in_use, 0u);
  f.check_pages();
  f.va.trim();
  EXPECT_EQ(f.pages.outstanding(), 0u) << "all metadata returned";
  EXPECT_EQ(f.va.stats().metadata_pages, 0u);
}

TEST(VaAllocTest, TrimKeepsClassesInUse) {
  Fixture f;
  uint64_t a = f.va.alloc(kPage).value();
  uint64_t b = f.va.alloc(kPage).value();
  uint64_t s = f.va.alloc(20 * kKiB).value();
  ASSERT_TRUE(f.va.free(b, kPage).ok());
  ASSERT_TRUE(f.va.free(s, 20 * kKiB).ok());
  f.va.trim();
  // Order 0 still has `a`: its root, leaf and stack chunk stay; order 3 is gone.
  EXPECT_EQ(f.pages.outstanding(), 3u);
  f.check_pages();
  EXPECT_EQ(f.va.free(b, kPage).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.va.alloc(kPage).value(), b);
  ASSERT_TRUE(f.va.free(a, kPage).ok());
  ASSERT_TRUE(f.va.free(b, kPage).ok());
  f.va.trim();
  EXPECT_EQ(f.pages.outstanding(), 0u);
}

// 100,000 kernel stacks (16 KiB + 4 KiB guard): all distinct, freed in a
// random order, reallocated from the free stack without growing the bump
// pointer, and every metadata page returned at the end.
TEST(VaAllocTest, HundredThousandStacks) {
  constexpr int kN = 100'000;
  constexpr uint64_t kStack = 16 * kKiB + kPage;
  Fixture f;
  std::vector<uint64_t> v;
  v.reserve(kN);
  for (int i = 0; i < kN; ++i) v.push_back(f.va.alloc(kStack).value());
  EXPECT_EQ(std::set<uint64_t>(v.begin(), v.end()).size(), size_t{kN});
  std::mt19937_64 rng(7);
  std::shuffle(v.begin(), v.end(), rng);
  for (uint64_t va : v) ASSERT_TRUE(f.va.free(va, kStack).ok());
  EXPECT_EQ(f.va.class_stats(3).free_slots, uint64_t{kN});
  // 1021 slots per chunk, 32768 per leaf: ~4 bytes per free slot.
  EXPECT_LE(f.pages.outstanding(), size_t{kN / 1021 + 2 + 4 + 1});
  std::set<uint64_t> again;
  for (int i = 0; i < kN; ++i) again.insert(f.va.alloc(kStack).value());
  EXPECT_EQ(again, std::set<uint64_t>(v.begin(), v.end()));
  EXPECT_EQ(f.va.class_stats(3).high_water, uint64_t{kN});
  for (uint64_t va : again) ASSERT_TRUE(f.va.free(va, kStack).ok());
  f.va.trim();
  EXPECT_EQ(f.pages.outstanding(), 0u);
}

// The interface itself: the window and the ranges are virtual addresses; an
// integer or a physical address in their place does not compile.
template <typename A>
concept FreeTakes = requires(VaAllocator v, A a) {
  v.free(a, uint64_t{1});
};
template <typename A>
concept InitTakes = requires(VaAllocator v, A a, VaPageSource s) {
  v.init(a, uint64_t{1}, s);
};
static_assert(!FreeTakes<uint64_t> && !FreeTakes<base::PhysAddr> && FreeTakes<base::VirtAddr>);
static_assert(!InitTakes<uint64_t> && !InitTakes<base::PhysAddr> && InitTakes<base::VirtAddr>);
static_assert(std::is_same_v<decltype(std::declval<VaAllocator&>().alloc(1)), base::Result<base::VirtAddr>>);

TEST(VaAllocTest, TypedInterface) {
  FakePages pages;
  VaAllocator va;
  ASSERT_TRUE(va.init(base::VirtAddr(kKernelBase), kTiB, pages.source()).ok());
  EXPECT_EQ(va.base(), base::VirtAddr(kKernelBase));
  base::Result<base::VirtAddr> r = va.alloc(kPage);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), base::VirtAddr(kKernelBase));
  EXPECT_TRUE(va.free(r.value(), kPage).ok());
  EXPECT_EQ(va.free(r.value(), kPage).error(), Error::kInvalidArgument) << "double free";
  va.trim();
}

}  // namespace
}  // namespace mm
