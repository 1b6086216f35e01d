// Host tests for deferred page-metadata init (PhysOptions::init_pages,
// PhysAllocator::grow): where the prepared part ends, how readiness is
// tracked, that an allocation grows the prepared part instead of failing,
// and that a finished init leaves the allocator as an eager one would.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "src/mm/phys.h"
#include "src/mm/phys_raw_for_test.h"

namespace mm {
namespace {

// A PhysRange from two plain numbers: the tests spell addresses as literals.
PhysRange pr(uint64_t start, uint64_t end) { return PhysRange{base::PhysAddr(start), base::PhysAddr(end)}; }

using base::Error;

constexpr uint64_t kPage = base::kPageSize;
constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

// Unaligned edges, a range shorter than 2 MiB, one above 4 GiB: every kind
// of boundary the prepared part can stop at.
std::vector<PhysRange> test_ranges() {
  return {
      pr(1 * kMiB + 3 * kPage, 9 * kMiB - 5 * kPage),  // unaligned both ends
      pr(10 * kMiB, 10 * kMiB + 300 * kPage),          // under 2 MiB
      pr(6 * kGiB + 2 * kMiB, 6 * kGiB + 40 * kMiB),   // above 4 GiB
  };
}

uint64_t pages_in(const std::vector<PhysRange>& ranges) {
  uint64_t n = 0;
  for (const PhysRange& r : ranges) n += r.size() / kPage;
  return n;
}

// An allocator with its metadata buffer; no PhysToPtr (no zeroing, no poison).
struct Deferred {
  Deferred(std::vector<PhysRange> r, uint64_t init_pages) : ranges(std::move(r)) {
    meta.assign((phys_metadata_bytes(span()) + 7) / 8, 0xA5A5A5A5A5A5A5A5ull);  // garbage, as RAM would hold
    base::Span<uint8_t> buf(reinterpret_cast<uint8_t*>(meta.data()), meta.size() * 8);
    base::Status s = pa.init(span(), buf, nullptr, nullptr, PhysOptions{.init_pages = init_pages});
    EXPECT_TRUE(s.ok()) << (pa.last_error() ? pa.last_error() : "");
  }
  base::Span<const PhysRange> span() const { return {ranges.data(), ranges.size()}; }
  std::vector<PhysRange> ranges;
  std::vector<uint64_t> meta;
  RawPhysAllocator pa;
};

// The address just past the last prepared page, from ready_pages.
uint64_t ready_end(const std::vector<PhysRange>& ranges, uint64_t ready) {
  for (const PhysRange& r : ranges) {
    const uint64_t n = r.size() / kPage;
    if (ready <= n) return r.start.value() + ready * kPage;
    ready -= n;
  }
  return ~uint64_t{0};
}

bool on_boundary(const std::vector<PhysRange>& ranges, uint64_t addr) {
  if (addr % (2 * kMiB) == 0) return true;
  for (const PhysRange& r : ranges) {
    if (addr == r.end.value() || addr == r.start.value()) return true;
  }
  return false;
}

TEST(PhysDeferred, InitPreparesOnlyUpToTheNext2MiBBoundary) {
  Deferred d(test_ranges(), 1);
  const PhysStats s = d.pa.stats();
  // From 1 MiB + 3 pages up to 2 MiB: one page asked for, the rest of the
  // 2 MiB block given, so no buddy straddles the edge.
  EXPECT_EQ(s.ready_pages, (2 * kMiB - (1 * kMiB + 3 * kPage)) / kPage);
  EXPECT_EQ(s.total_pages, pages_in(d.ranges));
  EXPECT_EQ(s.free_pages, s.total_pages) << "deferred pages are free pages";
  uint64_t listed = 0;
  for (unsigned o = 0; o < kNumOrders; ++o) listed += s.free_blocks[o] << o;
  EXPECT_EQ(listed, s.ready_pages) << "only prepared pages are on the free lists";
  EXPECT_TRUE(d.pa.growing());
}

TEST(PhysDeferred, NothingDeferredByDefaultOrWhenAskedForMoreThanThereIs) {
  for (uint64_t init : {~uint64_t{0}, pages_in(test_ranges()), pages_in(test_ranges()) + 1}) {
    Deferred d(test_ranges(), init);
    EXPECT_FALSE(d.pa.growing()) << init;
    EXPECT_EQ(d.pa.stats().ready_pages, d.pa.stats().total_pages);
    EXPECT_EQ(d.pa.grow(1), 0u);
  }
}

TEST(PhysDeferred, GrowStopsOnlyOn2MiBBoundariesOrRangeEdgesAndEndsLikeAnEagerInit) {
  Deferred eager(test_ranges(), ~uint64_t{0});
  for (uint64_t step : {uint64_t{1}, uint64_t{7}, uint64_t{512}, uint64_t{1000}, kPhysGrowPages}) {
    Deferred d(test_ranges(), 0);
    EXPECT_EQ(d.pa.stats().ready_pages, 0u);
    uint64_t prev = 0, steps = 0;
    for (uint64_t got; (got = d.pa.grow(step)) != 0; ++steps) {
      const uint64_t ready = d.pa.stats().ready_pages;
      EXPECT_EQ(ready, prev + got);
      EXPECT_GE(got, std::min<uint64_t>(step, 1));
      EXPECT_TRUE(on_boundary(d.ranges, ready_end(d.ranges, ready)))
          << "step " << step << ": prepared part ends at 0x" << std::hex << ready_end(d.ranges, ready);
      prev = ready;
    }
    EXPECT_FALSE(d.pa.growing());
    const PhysStats a = d.pa.stats(), b = eager.pa.stats();
    EXPECT_EQ(a.total_pages, b.total_pages);
    EXPECT_EQ(a.free_pages, b.free_pages);
    for (unsigned o = 0; o < kNumOrders; ++o) EXPECT_EQ(a.free_blocks[o], b.free_blocks[o]) << "order " << o;
    EXPECT_GT(steps, 2u);
  }
}

TEST(PhysDeferred, AllocationsGrowThePreparedPartInsteadOfFailing) {
  Deferred d(test_ranges(), 0);
  const uint64_t total = d.pa.stats().total_pages;
  uint64_t got = 0;
  for (;;) {
    base::Result<uint64_t> p = d.pa.alloc(0);
    if (!p.ok()) {
      EXPECT_EQ(p.error(), Error::kOutOfMemory);
      EXPECT_FALSE(d.pa.growing()) << "out of memory while " << d.pa.stats().total_pages - d.pa.stats().ready_pages
                                   << " pages were still deferred: a false out-of-memory";
      break;
    }
    ++got;
  }
  EXPECT_EQ(got, total);
  EXPECT_EQ(d.pa.stats().free_pages, 0u);
  EXPECT_GT(d.pa.stats().grown_by_alloc, 0u);
}

TEST(PhysDeferred, ALargeBlockGrowsPastPreparedMemoryThatHoldsOnlySmallOnes) {
  // The first range's prepared part (from 1 MiB + 3 pages) holds no 2 MiB
  // block; the order-9 request must prepare on until one appears.
  Deferred d(test_ranges(), 1);
  base::Result<uint64_t> p = d.pa.alloc(kMaxOrder);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value() % (2 * kMiB), 0u);
  EXPECT_LT(p.value(), ready_end(d.ranges, d.pa.stats().ready_pages));
  EXPECT_TRUE(d.pa.free(p.value(), kMaxOrder).ok());
  // Every 2 MiB block there is, though most were deferred at the start.
  Deferred e(test_ranges(), 0);
  uint64_t blocks = 0;
  while (e.pa.alloc(kMaxOrder).ok()) ++blocks;
  EXPECT_EQ(blocks, 3u /* 2..8 MiB */ + 19u /* 6 GiB + 2..40 MiB */);
  EXPECT_FALSE(e.pa.growing());
}

TEST(PhysDeferred, FreeingOrCachingADeferredPageIsRefusedWithoutReadingItsMetadata) {
  Deferred d(test_ranges(), 1);
  const uint64_t deferred_page = 6 * kGiB + 8 * kMiB;
  EXPECT_EQ(d.pa.free(deferred_page, 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(d.pa.last_error(), "free: page was never allocated (its metadata is not yet initialised)");
  EXPECT_EQ(d.pa.cache_page(deferred_page).error(), Error::kInvalidArgument);
  EXPECT_EQ(d.pa.cache_page(4 * kMiB).error(), Error::kInvalidArgument);
  // Once prepared, the same page is an ordinary never-allocated one.
  while (d.pa.grow(kPhysGrowPages) != 0) {
  }
  EXPECT_EQ(d.pa.free(deferred_page, 0).error(), Error::kInvalidArgument);
  EXPECT_STRNE(d.pa.last_error(), "free: page was never allocated (its metadata is not yet initialised)");
}

TEST(PhysDeferred, RandomChurnWhileGrowingReturnsToTheEagerState) {
  std::mt19937_64 rng(17);
  Deferred eager(test_ranges(), ~uint64_t{0});
  Deferred d(test_ranges(), 0);
  std::vector<std::pair<uint64_t, unsigned>> live;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t r = rng() % 100;
    if (r < 2) {
      d.pa.grow(1 + rng() % 700);
    } else if (r < 55 || live.empty()) {
      const unsigned order = static_cast<unsigned>(rng() % 4 == 0 ? rng() % kNumOrders : 0);
      base::Result<uint64_t> p = d.pa.alloc(order);
      if (p.ok()) {
        live.emplace_back(p.value(), order);
      } else {
        ASSERT_FALSE(d.pa.growing()) << "false out-of-memory at step " << i;
      }
    } else {
      const size_t k = rng() % live.size();
      ASSERT_TRUE(d.pa.free(live[k].first, live[k].second).ok()) << d.pa.last_error();
      live[k] = live.back();
      live.pop_back();
    }
  }
  for (const auto& [pa, order] : live) ASSERT_TRUE(d.pa.free(pa, order).ok()) << d.pa.last_error();
  while (d.pa.grow(kPhysGrowPages) != 0) {
  }
  const PhysStats a = d.pa.stats(), b = eager.pa.stats();
  EXPECT_EQ(a.free_pages, b.free_pages);
  for (unsigned o = 0; o < kNumOrders; ++o) EXPECT_EQ(a.free_blocks[o], b.free_blocks[o]) << "order " << o;
}

}  // namespace
}  // namespace mm
