#include "src/mm/tlb_ranges.h"

#include <gtest/gtest.h>

#include <vector>

namespace mm {
namespace {

// Ranges are virtual: a raw integer or a physical address does not compile.
template <typename A>
concept AddTakes = requires(TlbRanges r, A a) {
  r.add(a, uint64_t{1});
};
static_assert(!AddTakes<uint64_t>);
static_assert(!AddTakes<base::PhysAddr>);
static_assert(AddTakes<base::VirtAddr>);

std::vector<uint64_t> pages_of(const TlbRanges& r) {
  std::vector<uint64_t> v;
  r.for_each_page([&](base::VirtAddr va) { v.push_back(va.value()); });
  return v;
}

TEST(TlbRanges, StartsEmpty) {
  TlbRanges r;
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.full());
  EXPECT_TRUE(pages_of(r).empty());
}

TEST(TlbRanges, ContiguousAddsMergeIntoOneRange) {
  TlbRanges r;
  r.add(base::VirtAddr(0x10000), 1);
  r.add(base::VirtAddr(0x11000), 2);
  ASSERT_EQ(r.count(), 1u);
  EXPECT_EQ(r[0].va, 0x10000u);
  EXPECT_EQ(r[0].pages, 3u);
  EXPECT_EQ(pages_of(r), (std::vector<uint64_t>{0x10000, 0x11000, 0x12000}));
}

TEST(TlbRanges, DisjointAddsKeepTheirOrder) {
  TlbRanges r;
  r.add(base::VirtAddr(0x50000), 1);
  r.add(base::VirtAddr(0x10000), 1);
  ASSERT_EQ(r.count(), 2u);
  EXPECT_EQ(pages_of(r), (std::vector<uint64_t>{0x50000, 0x10000}));
}

TEST(TlbRanges, TooManyPagesBecomesAFullFlush) {
  TlbRanges r;
  r.add(base::VirtAddr(0x10000), kTlbInvlpgMaxPages);
  EXPECT_FALSE(r.full());
  r.add(base::VirtAddr(0x900000), 1);
  EXPECT_TRUE(r.full());
  EXPECT_FALSE(r.empty());
  EXPECT_TRUE(pages_of(r).empty());  // a full flush INVLPGs nothing
  r.add(base::VirtAddr(0x1000), 1);  // stays full
  EXPECT_TRUE(r.full());
}

TEST(TlbRanges, TooManyRangesBecomesAFullFlush) {
  TlbRanges r;
  for (uint32_t i = 0; i < kTlbMaxRanges; ++i) r.add(base::VirtAddr(0x100000 * (i + 1)), 1);
  EXPECT_FALSE(r.full());
  EXPECT_EQ(r.count(), kTlbMaxRanges);
  r.add(base::VirtAddr(0x100000 * (kTlbMaxRanges + 5)), 1);
  EXPECT_TRUE(r.full());
}

TEST(TlbRanges, ClearStartsOver) {
  TlbRanges r;
  r.set_full();
  r.clear();
  EXPECT_TRUE(r.empty());
  r.add(base::VirtAddr(0x2000), 0);  // nothing
  EXPECT_TRUE(r.empty());
  r.add(base::VirtAddr(0x2000), 1);
  EXPECT_EQ(r.count(), 1u);
}

}  // namespace
}  // namespace mm
