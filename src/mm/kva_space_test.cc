#include "src/mm/kva_space.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <iterator>
#include <vector>
#include <map>
#include <random>
#include <set>

namespace mm {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kBase = 0xffff'c000'0000'0000;
constexpr uint64_t kWindow = uint64_t{1} << 40;

struct FakePages {
  std::set<void*> live;
  uint64_t fail_after = ~uint64_t{0};
  static base::Result<uint64_t> alloc(void* ctx) {
    auto* f = static_cast<FakePages*>(ctx);
    if (f->fail_after == 0) return base::Error::kOutOfMemory;
    --f->fail_after;
    void* p = std::aligned_alloc(kPage, kPage);
    std::memset(p, 0, kPage);
    f->live.insert(p);
    return reinterpret_cast<uint64_t>(p);
  }
  static void free(void* ctx, uint64_t page) {
    auto* f = static_cast<FakePages*>(ctx);
    void* p = reinterpret_cast<void*>(page);
    EXPECT_EQ(f->live.erase(p), 1u);
    std::free(p);
  }
  KvaPageSource source() { return KvaPageSource{&alloc, &free, this}; }
};

struct Fixture {
  explicit Fixture(uint64_t window = kWindow) { EXPECT_TRUE(kva.init(kBase, window, pages.source()).ok()); }
  ~Fixture() {
    kva.destroy();
    EXPECT_TRUE(pages.live.empty());
    EXPECT_EQ(kva.metadata_pages(), 0u);
  }
  FakePages pages;
  KvaSpace kva;
};

int err(base::Status s) { return s.ok() ? 0 : static_cast<int>(s.error()); }
constexpr int kInvalid = static_cast<int>(base::Error::kInvalidArgument);

TEST(KvaSpace, ClassBytesRoundsUpToPowersOfTwoPages) {
  EXPECT_EQ(KvaSpace::class_bytes(1), kPage);
  EXPECT_EQ(KvaSpace::class_bytes(kPage), kPage);
  EXPECT_EQ(KvaSpace::class_bytes(kPage + 1), 2 * kPage);
  EXPECT_EQ(KvaSpace::class_bytes(5 * kPage), 8 * kPage);
  EXPECT_EQ(KvaSpace::class_bytes(uint64_t{32} << 30), uint64_t{32} << 30);
  EXPECT_EQ(KvaSpace::class_bytes((uint64_t{32} << 30) + 1), 0u);
  EXPECT_EQ(KvaSpace::class_bytes(0), 0u);
  EXPECT_EQ(KvaSpace::class_bytes(~uint64_t{0}), 0u);
}

TEST(KvaSpace, RangesAreAlignedInsideTheWindowAndReused) {
  Fixture f;
  auto a = f.kva.alloc(20 * 1024);  // 8 pages
  auto b = f.kva.alloc(20 * 1024);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.value() % (8 * kPage), 0u);
  EXPECT_GE(a.value(), kBase);
  EXPECT_LT(b.value() + 8 * kPage, kBase + kWindow + 1);
  EXPECT_NE(a.value(), b.value());
  ASSERT_EQ(err(f.kva.free(a.value(), 20 * 1024)), 0);
  auto c = f.kva.alloc(8 * kPage);  // same class: the freed slot comes back
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value(), a.value());
  EXPECT_EQ(f.kva.stats(3).in_use, 2u);
  EXPECT_EQ(err(f.kva.free(b.value(), 8 * kPage)), 0);
  EXPECT_EQ(err(f.kva.free(c.value(), 8 * kPage)), 0);
}

TEST(KvaSpace, MisuseIsRejectedAndChangesNothing) {
  Fixture f;
  auto a = f.kva.alloc(kPage);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(err(f.kva.free(a.value(), 2 * kPage)), kInvalid);       // other class
  EXPECT_EQ(err(f.kva.free(a.value() + kPage, kPage)), kInvalid);   // never handed out
  EXPECT_EQ(err(f.kva.free(kBase - kPage, kPage)), kInvalid);       // outside
  EXPECT_EQ(err(f.kva.free(a.value() + 8, kPage)), kInvalid);       // not a start
  EXPECT_EQ(err(f.kva.free(a.value(), 0)), kInvalid);
  EXPECT_FALSE(f.kva.alloc(0).ok());
  EXPECT_FALSE(f.kva.alloc(uint64_t{64} << 30).ok());
  EXPECT_EQ(f.kva.stats(0).in_use, 1u);
  ASSERT_EQ(err(f.kva.free(a.value(), kPage)), 0);
  EXPECT_EQ(err(f.kva.free(a.value(), kPage)), kInvalid);  // double free
  EXPECT_STREQ(f.kva.last_error(), "free: double free");
  EXPECT_EQ(f.kva.stats(0).free_slots, 1u);
}

TEST(KvaSpace, ExhaustionIsAnErrorAndRecovers) {
  Fixture f(KvaSpace::kClasses * 4 * kPage);  // four 1-page slots per class
  uint64_t got[4];
  for (auto& g : got) {
    auto r = f.kva.alloc(kPage);
    ASSERT_TRUE(r.ok());
    g = r.value();
  }
  EXPECT_EQ(f.kva.alloc(kPage).error(), base::Error::kOutOfMemory);
  ASSERT_EQ(err(f.kva.free(got[2], kPage)), 0);
  auto again = f.kva.alloc(kPage);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), got[2]);
  for (auto g : got) EXPECT_EQ(err(f.kva.free(g, kPage)), 0);
}

TEST(KvaSpace, MetadataFailureLeavesStateConsistent) {
  Fixture f;
  f.pages.fail_after = 0;
  EXPECT_EQ(f.kva.alloc(kPage).error(), base::Error::kOutOfMemory);  // no bitmap page
  EXPECT_EQ(f.kva.stats(0).in_use, 0u);
  f.pages.fail_after = 1;  // the bitmap, but no free-stack chunk
  auto a = f.kva.alloc(kPage);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(f.kva.free(a.value(), kPage).error(), base::Error::kOutOfMemory);
  EXPECT_EQ(f.kva.stats(0).in_use, 1u);
  f.pages.fail_after = ~uint64_t{0};
  EXPECT_EQ(err(f.kva.free(a.value(), kPage)), 0);
}

TEST(KvaSpace, RandomWorkloadNeverOverlapsAgainstAReferenceModel) {
  Fixture f;
  std::mt19937_64 rng(7);
  std::map<uint64_t, uint64_t> live;  // start -> reserved bytes
  for (int i = 0; i < 50'000; ++i) {
    if (live.empty() || rng() % 3 != 0) {
      uint64_t bytes = (rng() % 64 + 1) * kPage / (rng() % 4 + 1);
      auto r = f.kva.alloc(bytes);
      ASSERT_TRUE(r.ok());
      uint64_t size = KvaSpace::class_bytes(bytes);
      auto next = live.lower_bound(r.value());
      if (next != live.end()) ASSERT_LE(r.value() + size, next->first);
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second, r.value());
      }
      live[r.value()] = size;
    } else {
      auto it = live.lower_bound(kBase + rng() % kWindow);
      if (it == live.end()) it = live.begin();
      ASSERT_EQ(err(f.kva.free(it->first, it->second)), 0);
      live.erase(it);
    }
  }
  for (auto [va, size] : live) ASSERT_EQ(err(f.kva.free(va, size)), 0);
  for (unsigned k = 0; k < KvaSpace::kClasses; ++k) EXPECT_EQ(f.kva.stats(k).in_use, 0u);
}

TEST(KvaSpace, ManyStacksCostConstantWork) {
  Fixture f;
  std::vector<uint64_t> v;
  for (int i = 0; i < 100'000; ++i) v.push_back(f.kva.alloc(20 * 1024).value());
  for (uint64_t va : v) ASSERT_EQ(err(f.kva.free(va, 20 * 1024)), 0);
  EXPECT_EQ(f.kva.stats(3).free_slots, 100'000u);
  EXPECT_EQ(f.kva.stats(3).high_water, 100'000u);
}

}  // namespace
}  // namespace mm
