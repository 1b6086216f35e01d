// Host tests for the buddy allocator, over simulated physical memory: several
// ranges (one above 4 GiB) backed by host buffers, a reference model for the
// randomized test, and the error paths (double free, poison, OOM).
#include "src/mm/phys.h"
#include "src/mm/phys_raw_for_test.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "src/mm/phys_test_fixture.h"

namespace mm {
namespace {

// Physical addresses cross the allocator's interfaces typed, the pointer
// callback included: a bare word does not convert.
static_assert(!std::is_invocable_v<PhysToPtr, void*, uint64_t>);
static_assert(std::is_invocable_r_v<uint8_t*, PhysToPtr, void*, base::PhysAddr>);
static_assert(std::is_same_v<decltype(PhysAllocator().last_fault_addr()), base::PhysAddr>);

// A PhysRange from two plain numbers: the tests spell addresses as literals.
PhysRange pr(uint64_t start, uint64_t end) { return PhysRange{base::PhysAddr(start), base::PhysAddr(end)}; }

using base::Error;

using phys_testing::kGiB;
using phys_testing::kMiB;
using phys_testing::kPage;
using phys_testing::kTiB;
using phys_testing::total_pages;
using Fixture = phys_testing::PhysFixture;

// Low memory with an unaligned edge, a range not aligned to 2 MiB at either
// end, and one above 4 GiB.
std::vector<PhysRange> mixed_ranges() {
  return {
      pr(0x1000, 0x9F000),
      pr(0x100000, 0x100000 + 6 * kMiB + 0x5000),
      pr(0x100000000 + 0x3000, 0x100000000 + 4 * kMiB - 0x2000),
  };
}

std::vector<uint64_t> free_blocks(const PhysAllocator& pa) {
  PhysStats s = pa.stats();
  return std::vector<uint64_t>(s.free_blocks, s.free_blocks + kNumOrders);
}

bool inside_one_range(const std::vector<PhysRange>& ranges, uint64_t a, uint64_t size) {
  for (const PhysRange& r : ranges) {
    if (a >= r.start.value() && a + size <= r.end.value()) return true;
  }
  return false;
}

TEST(PhysTest, InitCarvesUnalignedEdgesIntoNaturallyAlignedBlocks) {
  // [0x3000, 0x405000): 0x3000 (o0), 0x4000 (o2), 0x8000 (o3) ... 0x200000
  // (o9), then 0x400000 (o2), 0x404000 (o0). 1026 pages.
  Fixture f({pr(0x3000, 0x405000)});
  PhysStats s = f.pa.stats();
  EXPECT_EQ(s.total_pages, 1026u);
  EXPECT_EQ(s.free_pages, 1026u);
  std::vector<uint64_t> want = {2, 0, 2, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(free_blocks(f.pa), want);

  // The only 2 MiB block is the aligned one.
  auto big = f.pa.alloc(9);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big.value(), 0x200000u);
  auto none = f.pa.alloc(9);
  EXPECT_EQ(none.error(), Error::kOutOfMemory);
  ASSERT_TRUE(f.pa.free(big.value(), 9).ok());
  EXPECT_EQ(free_blocks(f.pa), want);
}

TEST(PhysTest, AllocEverythingAtOrderZeroThenFreeRestoresEverything) {
  std::vector<PhysRange> ranges = mixed_ranges();
  Fixture f(ranges);
  const std::vector<uint64_t> initial = free_blocks(f.pa);
  const uint64_t total = total_pages(ranges);
  EXPECT_EQ(f.pa.stats().total_pages, total);
  EXPECT_EQ(f.pa.stats().free_pages, total);

  std::set<uint64_t> got;
  for (;;) {
    auto r = f.pa.alloc(0);
    if (!r.ok()) {
      EXPECT_EQ(r.error(), Error::kOutOfMemory);
      break;
    }
    EXPECT_TRUE(inside_one_range(ranges, r.value(), kPage));
    EXPECT_TRUE(got.insert(r.value()).second) << "page handed out twice";
  }
  EXPECT_EQ(got.size(), total);
  EXPECT_EQ(f.pa.stats().free_pages, 0u);
  for (unsigned o = 0; o < kNumOrders; ++o) EXPECT_EQ(f.pa.stats().free_blocks[o], 0u);

  for (uint64_t a : got) ASSERT_TRUE(f.pa.free(a, 0).ok()) << f.pa.last_error();
  EXPECT_EQ(f.pa.stats().free_pages, total);
  // Coalescing is complete: the same blocks as right after init.
  EXPECT_EQ(free_blocks(f.pa), initial);
}

TEST(PhysTest, RandomMixedOrdersAgainstReferenceModel) {
  std::vector<PhysRange> ranges = mixed_ranges();
  Fixture f(ranges, PhysOptions{.poison = true});
  const std::vector<uint64_t> initial = free_blocks(f.pa);
  const uint64_t total = total_pages(ranges);

  std::map<uint64_t, unsigned> live;  // start -> order
  std::vector<uint64_t> live_list;
  std::mt19937_64 rng(12345);  // Fixed seed; raw draws are portable.
  uint64_t live_pages = 0;
  int ooms = 0;
  for (int step = 0; step < 20000; ++step) {
    bool do_alloc = live_list.empty() || rng() % 100 < 55;
    if (do_alloc) {
      // Mostly small orders, sometimes up to 2 MiB.
      unsigned order = (rng() % 4 == 0) ? rng() % kNumOrders : rng() % 3;
      bool zero = rng() % 2 == 0;
      auto r = f.pa.alloc(order, zero ? kAllocZero : kAllocNone);
      if (!r.ok()) {
        ASSERT_EQ(r.error(), Error::kOutOfMemory) << f.pa.last_error();
        ++ooms;
        continue;
      }
      uint64_t a = r.value();
      uint64_t size = order_bytes(order);
      ASSERT_EQ(a % size, 0u) << "block not aligned to its size";
      ASSERT_TRUE(inside_one_range(ranges, a, size));
      // No overlap with the neighbours in the model.
      auto next = live.lower_bound(a);
      if (next != live.end()) ASSERT_GE(next->first, a + size);
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + order_bytes(prev->second), a);
      }
      if (zero) {
        for (uint64_t p = a; p < a + size; p += kPage) {
          const uint8_t* page = f.mem.at(p);
          for (uint64_t i = 0; i < kPage; ++i) ASSERT_EQ(page[i], 0) << "not zeroed";
        }
      }
      // Dirty the block (legal while allocated) so poison has work to do.
      for (uint64_t p = a; p < a + size; p += kPage) std::memset(f.mem.at(p), 0x5A, 64);
      live[a] = order;
      live_list.push_back(a);
      live_pages += uint64_t{1} << order;
    } else {
      size_t i = rng() % live_list.size();
      uint64_t a = live_list[i];
      live_list[i] = live_list.back();
      live_list.pop_back();
      unsigned order = live[a];
      live.erase(a);
      ASSERT_TRUE(f.pa.free(a, order).ok()) << f.pa.last_error();
      live_pages -= uint64_t{1} << order;
    }
    ASSERT_EQ(f.pa.stats().free_pages, total - live_pages);
  }
  EXPECT_GT(ooms, 0) << "test should exercise memory pressure";
  EXPECT_EQ(f.pa.stats().poison_failures, 0u);
  for (auto [a, order] : live) ASSERT_TRUE(f.pa.free(a, order).ok()) << f.pa.last_error();
  EXPECT_EQ(f.pa.stats().free_pages, total);
  EXPECT_EQ(free_blocks(f.pa), initial);
}

TEST(PhysTest, DoubleFreeIsDetected) {
  Fixture f({pr(0, 4 * kMiB)});
  auto a = f.pa.alloc(0);
  auto b = f.pa.alloc(2);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(f.pa.free(b.value(), 2).ok());
  // b's block is a free head of its own (its buddy is split).
  EXPECT_EQ(f.pa.free(b.value(), 2).error(), Error::kInvalidArgument);
  ASSERT_NE(f.pa.last_error(), nullptr);
  EXPECT_STREQ(f.pa.last_error(), "free: double free (block is already free)");

  // a's free merges everything back into one 2 MiB block: a is its head
  // (the lowest page), b now lies inside it.
  PhysStats before = f.pa.stats();
  ASSERT_TRUE(f.pa.free(a.value(), 0).ok());
  EXPECT_EQ(f.pa.stats().free_blocks[kMaxOrder], 2u);
  EXPECT_EQ(f.pa.free(a.value(), 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: double free (block is already free)");
  EXPECT_EQ(f.pa.free(b.value(), 2).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: page is already free (double free or never allocated)");
  // The failed frees changed nothing.
  EXPECT_EQ(f.pa.stats().free_pages, before.free_pages + 1);
  EXPECT_EQ(f.pa.stats().free_blocks[kMaxOrder], 2u);
}

TEST(PhysTest, FreeOfNeverAllocatedMemoryIsDetected) {
  Fixture f({pr(0, 4 * kMiB), pr(8 * kMiB, 10 * kMiB)});
  // Untouched free memory.
  EXPECT_EQ(f.pa.free(0x5000, 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: page is already free (double free or never allocated)");
  // Not managed: the hole between ranges, beyond the end.
  EXPECT_EQ(f.pa.free(5 * kMiB, 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: address not managed by this allocator");
  EXPECT_EQ(f.pa.free(kTiB, 0).error(), Error::kInvalidArgument);
  // Unaligned and oversize.
  EXPECT_EQ(f.pa.free(0x5001, 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: address not page-aligned");
  EXPECT_EQ(f.pa.free(0, kMaxOrder + 1).error(), Error::kInvalidArgument);

  auto b = f.pa.alloc(3);
  ASSERT_TRUE(b.ok());
  // Inside an allocated block, not at its start.
  EXPECT_EQ(f.pa.free(b.value() + 2 * kPage, 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: page lies inside an allocated block, not at its start");
  // Right start, wrong order.
  EXPECT_EQ(f.pa.free(b.value(), 2).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: order differs from the allocation's");
  EXPECT_TRUE(f.pa.free(b.value(), 3).ok());
  EXPECT_EQ(f.pa.stats().free_pages, f.pa.stats().total_pages);
}

TEST(PhysTest, PoisonCatchesWriteAfterFree) {
  Fixture f({pr(0x100000000, 0x100000000 + 2 * kMiB)}, PhysOptions{.poison = true});
  auto a = f.pa.alloc(0);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(f.pa.free(a.value(), 0).ok());
  // The whole merged 2 MiB block is poisoned, not just the freed page.
  for (uint64_t p = 0x100000000; p < 0x100000000 + 2 * kMiB; p += kPage) {
    ASSERT_EQ(f.mem.at(p)[100], kPoisonByte);
  }
  f.mem.at(a.value())[123] = 0x42;  // Write after free.

  auto again = f.pa.alloc(0);
  EXPECT_EQ(again.error(), Error::kFault);
  EXPECT_STREQ(f.pa.last_error(), "alloc: poison overwritten in a freed block (write after free)");
  EXPECT_EQ(f.pa.last_fault_addr(), base::PhysAddr(a.value() + 123));
  EXPECT_EQ(f.pa.stats().poison_failures, 1u);
  EXPECT_EQ(f.pa.stats().quarantined_pages, 1u);
  // The bad page stays out of circulation; the rest is still usable.
  EXPECT_EQ(f.pa.free(a.value(), 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: block was quarantined after a poison failure");
  auto next = f.pa.alloc(0);
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next.value(), a.value());
}

TEST(PhysTest, ZeroedAllocationClearsDirtyMemory) {
  Fixture f({pr(0, 2 * kMiB)});  // SimMemory starts as 0xEE everywhere.
  auto a = f.pa.alloc(4, kAllocZero);
  ASSERT_TRUE(a.ok());
  for (uint64_t i = 0; i < order_bytes(4); i += 97) EXPECT_EQ(f.mem.at(a.value() + i)[0], 0);
}

TEST(PhysTest, OutOfMemoryReturnsErrorNotPanic) {
  Fixture f({pr(0, 64 * kPage)});
  auto a = f.pa.alloc(6);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(f.pa.alloc(0).error(), Error::kOutOfMemory);
  EXPECT_STREQ(f.pa.last_error(), "alloc: out of memory");
  ASSERT_TRUE(f.pa.free(a.value(), 6).ok());
  // Fragmented: one page held in every 2-page pair means no order-1 block.
  std::vector<uint64_t> pages;
  for (int i = 0; i < 64; ++i) pages.push_back(f.pa.alloc(0).value());
  for (uint64_t p : pages) {
    if ((p / kPage) % 2 == 0) ASSERT_TRUE(f.pa.free(p, 0).ok());
  }
  EXPECT_EQ(f.pa.stats().free_pages, 32u);
  EXPECT_EQ(f.pa.alloc(1).error(), Error::kOutOfMemory);
  EXPECT_EQ(f.pa.alloc(kMaxOrder + 1).error(), Error::kInvalidArgument);
  // An empty allocator is valid and always out of memory.
  Fixture empty({});
  EXPECT_EQ(empty.pa.alloc(0).error(), Error::kOutOfMemory);
}

TEST(PhysTest, InitRejectsMalformedInput) {
  std::vector<uint64_t> buf(1024);
  base::Span<uint8_t> meta(reinterpret_cast<uint8_t*>(buf.data()), buf.size() * 8);
  RawPhysAllocator pa;
  PhysRange unaligned[] = {pr(0x1000, 0x2800)};
  EXPECT_EQ(pa.init(unaligned, meta, nullptr, nullptr).error(), Error::kInvalidArgument);
  PhysRange unsorted[] = {pr(0x10000, 0x20000), pr(0x0, 0x8000)};
  EXPECT_EQ(pa.init(unsorted, meta, nullptr, nullptr).error(), Error::kInvalidArgument);
  PhysRange overlapping[] = {pr(0x0, 0x20000), pr(0x10000, 0x30000)};
  EXPECT_EQ(pa.init(overlapping, meta, nullptr, nullptr).error(), Error::kInvalidArgument);
  PhysRange too_big[] = {pr(0, 1 * kGiB)};
  EXPECT_EQ(pa.init(too_big, meta, nullptr, nullptr).error(), Error::kInvalidArgument);
  EXPECT_EQ(pa.init(too_big, meta.subspan(1, 1000), nullptr, nullptr).error(), Error::kInvalidArgument);
  PhysRange ok[] = {pr(0x0, 0x8000), pr(0x8000, 0x10000), pr(0x20000, 0x20000)};
  EXPECT_TRUE(pa.init(ok, meta, nullptr, nullptr).ok());
  // Adjacent ranges stay separate: blocks never cross a range edge.
  EXPECT_EQ(pa.stats().free_blocks[3], 2u);
  EXPECT_EQ(pa.alloc(0, kAllocZero).error(), Error::kInvalidArgument);  // No to_ptr.
  PhysOptions poison{.poison = true};
  EXPECT_EQ(pa.init(ok, meta, nullptr, nullptr, poison).error(), Error::kInvalidArgument);
}

TEST(PhysTest, MetadataWithinHalfPercent) {
  // 128 MiB with the usual low-memory hole.
  PhysRange small[] = {pr(0x1000, 0x9F000), pr(0x100000, 128 * kMiB)};
  // 4 GiB: below the PCI hole and remapped above 4 GiB.
  PhysRange large[] = {pr(0x1000, 0x9F000), pr(0x100000, 3 * kGiB), pr(4 * kGiB, 5 * kGiB)};
  for (base::Span<const PhysRange> ranges : {base::Span<const PhysRange>(small), base::Span<const PhysRange>(large)}) {
    uint64_t bytes = 0;
    for (const PhysRange& r : ranges) bytes += r.size();
    EXPECT_LE(phys_metadata_bytes(ranges) * 200, bytes);
  }
  // The 1 TiB hole: a small range high up costs only its own pages.
  PhysRange holey[] = {pr(0x100000, 32 * kMiB), pr(kTiB - 16 * kMiB, kTiB)};
  EXPECT_LT(phys_metadata_bytes(holey), 48 * kMiB / kPage * 16);
}

TEST(PhysTest, LargeAndHighRangesWithoutBackingMemory) {
  // Plain alloc/free never touch memory, so 4 GiB plus a range just below
  // 1 TiB can be managed with only the metadata allocated.
  std::vector<PhysRange> ranges = {pr(0x100000, 3 * kGiB), pr(4 * kGiB, 5 * kGiB), pr(kTiB - 16 * kMiB + 0x7000, kTiB)};
  std::vector<uint64_t> buf((phys_metadata_bytes({ranges.data(), ranges.size()}) + 7) / 8);
  RawPhysAllocator pa;
  ASSERT_TRUE(pa.init({ranges.data(), ranges.size()}, {reinterpret_cast<uint8_t*>(buf.data()), buf.size() * 8}, nullptr,
                      nullptr)
                  .ok());
  EXPECT_EQ(pa.stats().total_pages, total_pages(ranges));
  EXPECT_TRUE(pa.owns(kTiB - 4096));
  EXPECT_FALSE(pa.owns(2 * kTiB));
  EXPECT_FALSE(pa.owns(3 * kGiB + 5));
  // Drain all 2 MiB blocks: each aligned and inside a range.
  std::vector<uint64_t> got;
  for (;;) {
    auto r = pa.alloc(kMaxOrder);
    if (!r.ok()) break;
    ASSERT_EQ(r.value() % (2 * kMiB), 0u);
    ASSERT_TRUE(inside_one_range(ranges, r.value(), 2 * kMiB));
    got.push_back(r.value());
  }
  // 3 GiB less the 1 MiB edge, 1 GiB, and 14 of the 16 MiB below 1 TiB.
  EXPECT_EQ(got.size(), 1535u + 512u + 7u);
  std::set<uint64_t> unique(got.begin(), got.end());
  EXPECT_EQ(unique.size(), got.size());
  for (uint64_t a : got) ASSERT_TRUE(pa.free(a, kMaxOrder).ok());
  EXPECT_EQ(pa.stats().free_pages, pa.stats().total_pages);
}

TEST(PhysTest, RegionTableFindsEveryRangeAndEveryHole) {
  // Several ranges sharing a GiB, a range crossing GiB edges, whole GiBs of
  // hole, and a range starting exactly on a GiB edge: owns() (the region
  // table's lookup) must agree with a linear scan at every edge.
  std::vector<PhysRange> ranges = {pr(0x1000, 0x9F000),
                                   pr(0x100000, 0x200000),
                                   pr(0x300000, kGiB + 0x5000),
                                   pr(kGiB + 0x8000, kGiB + 0x9000),
                                   pr(4 * kGiB, 4 * kGiB + 0x1000),
                                   pr(6 * kGiB - 0x3000, 6 * kGiB + 0x2000)};
  std::vector<uint64_t> buf((phys_metadata_bytes({ranges.data(), ranges.size()}) + 7) / 8);
  RawPhysAllocator pa;
  ASSERT_TRUE(pa.init({ranges.data(), ranges.size()}, {reinterpret_cast<uint8_t*>(buf.data()), buf.size() * 8}, nullptr,
                      nullptr)
                  .ok());
  std::vector<uint64_t> probes = {0, 2 * kGiB, 3 * kGiB + 0x1000, 5 * kGiB, 7 * kGiB, kTiB, ~uint64_t{0} - 0xFFF};
  for (const PhysRange& r : ranges) {
    const uint64_t s = r.start.value(), e = r.end.value();
    for (uint64_t a : {s - kPage, s, s + kPage, e - kPage, e, e + kPage}) probes.push_back(a);
  }
  for (uint64_t a : probes) {
    bool inside = false;
    for (const PhysRange& r : ranges) inside |= a >= r.start.value() && a < r.end.value();
    EXPECT_EQ(pa.owns(a), inside) << std::hex << "0x" << a;
  }
  // And the allocator works across them: every page allocates and frees.
  std::vector<uint64_t> got;
  for (auto p = pa.alloc(0); p.ok(); p = pa.alloc(0)) got.push_back(p.value());
  EXPECT_EQ(got.size(), total_pages(ranges));
  for (uint64_t a : got) ASSERT_TRUE(pa.cache_page(a).ok()) << std::hex << a;
  for (uint64_t a : got) pa.uncache_page(a);
  for (uint64_t a : got) ASSERT_TRUE(pa.free(a, 0).ok());
  EXPECT_EQ(pa.stats().free_pages, pa.stats().total_pages);
}

}  // namespace
}  // namespace mm

namespace mm {
namespace {

TEST(PhysCacheMark, CachedPageRefusesASecondFreeAnywhere) {
  Fixture f({pr(0, 4 * kMiB)});
  auto a = f.pa.alloc(0);
  auto big = f.pa.alloc(1);
  ASSERT_TRUE(a.ok() && big.ok());
  ASSERT_TRUE(f.pa.cache_page(a.value()).ok());
  // A second free into a cache, or into the buddy lists, is a double free.
  EXPECT_EQ(f.pa.cache_page(a.value()).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: double free (page is already in a page cache)");
  EXPECT_EQ(f.pa.free(a.value(), 0).error(), Error::kInvalidArgument);
  EXPECT_STREQ(f.pa.last_error(), "free: double free (page is already in a page cache)");
  // Only order-0 blocks may be cached; a free page may not.
  EXPECT_EQ(f.pa.cache_page(big.value()).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.pa.cache_page(a.value() + 0x800).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.pa.cache_page(64 * kMiB).error(), Error::kInvalidArgument);
  // Out of the cache the page frees normally, and everything merges back.
  f.pa.uncache_page(a.value());
  ASSERT_TRUE(f.pa.free(a.value(), 0).ok());
  ASSERT_TRUE(f.pa.free(big.value(), 1).ok());
  EXPECT_EQ(f.pa.stats().free_pages, 4 * kMiB / kPage);
  uint64_t free_page = a.value();
  EXPECT_EQ(f.pa.cache_page(free_page).error(), Error::kInvalidArgument);
  EXPECT_EQ(f.pa.stats().free_pages, 4 * kMiB / kPage);
}

// The allocator's interface takes and returns physical addresses: an
// integer or a virtual address in their place does not compile.
template <typename A>
concept FreeTakes = requires(PhysAllocator p, A a) {
  p.free(a, 0u);
};
template <typename A>
concept CacheTakes = requires(PhysAllocator p, A a) {
  p.cache_page(a);
};
template <typename A>
concept OwnsTakes = requires(const PhysAllocator p, A a) {
  p.owns(a);
};
static_assert(!FreeTakes<uint64_t> && !FreeTakes<base::VirtAddr> && FreeTakes<base::PhysAddr>);
static_assert(!CacheTakes<uint64_t> && !CacheTakes<base::VirtAddr> && CacheTakes<base::PhysAddr>);
static_assert(!OwnsTakes<uint64_t> && !OwnsTakes<base::VirtAddr> && OwnsTakes<base::PhysAddr>);
static_assert(std::is_same_v<decltype(std::declval<PhysAllocator&>().alloc(0)), base::Result<base::PhysAddr>>);

TEST(PhysAllocTest, TypedInterface) {
  Fixture f({pr(0x100000, 0x100000 + 4 * kMiB)});
  PhysAllocator& pa = f.pa;
  base::Result<base::PhysAddr> a = pa.alloc(0);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(pa.owns(a.value()));
  EXPECT_FALSE(pa.owns(base::PhysAddr(0)));
  ASSERT_TRUE(pa.cache_page(a.value()).ok());
  pa.uncache_page(a.value());
  ASSERT_TRUE(pa.free(a.value(), 0).ok());
  EXPECT_EQ(pa.free(a.value(), 0).error(), Error::kInvalidArgument) << "double free";
  EXPECT_EQ(pa.stats().free_pages, 4 * kMiB / kPage);
}

}  // namespace
}  // namespace mm
