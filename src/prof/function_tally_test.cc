// Tests for FunctionTally: self and cumulative counts, recursion counted
// once, the order of the sorted table, a full table.
#include "src/prof/function_tally.h"

#include <gtest/gtest.h>

#include <vector>

namespace prof {
namespace {

TEST(FunctionTally, SelfAndCumulative) {
  std::vector<TallyEntry> slots(16);
  FunctionTally t(slots.data(), slots.size());
  const uint64_t a[] = {0x100, 0x200, 0x300};  // 0x100 called by 0x200 called by 0x300
  const uint64_t b[] = {0x200, 0x300};
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(t.add(a, 3));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.add(b, 2));
  EXPECT_EQ(t.samples(), 10u);
  ASSERT_EQ(t.sort(), 3u);
  EXPECT_EQ(slots[0].function, 0x100u);
  EXPECT_EQ(slots[0].self, 7u);
  EXPECT_EQ(slots[0].cum, 7u);
  EXPECT_EQ(slots[1].function, 0x200u);
  EXPECT_EQ(slots[1].self, 3u);
  EXPECT_EQ(slots[1].cum, 10u);
  EXPECT_EQ(slots[2].function, 0x300u);
  EXPECT_EQ(slots[2].self, 0u);
  EXPECT_EQ(slots[2].cum, 10u);
}

TEST(FunctionTally, RecursionCountsOncePerSampleAndUnknownFramesAreSkipped) {
  std::vector<TallyEntry> slots(8);
  FunctionTally t(slots.data(), slots.size());
  const uint64_t rec[] = {0x40, 0x40, 0, 0x40, 0x80};
  ASSERT_TRUE(t.add(rec, 5));
  ASSERT_EQ(t.sort(), 2u);
  EXPECT_EQ(slots[0].function, 0x40u);
  EXPECT_EQ(slots[0].self, 1u);
  EXPECT_EQ(slots[0].cum, 1u);
  EXPECT_EQ(slots[1].cum, 1u);
}

TEST(FunctionTally, TiesOrderByCumulativeThenAddress) {
  std::vector<TallyEntry> slots(32);
  FunctionTally t(slots.data(), slots.size());
  const uint64_t x[] = {0x900, 0x10};
  const uint64_t y[] = {0x800};
  const uint64_t z[] = {0x700};
  t.add(x, 2);
  t.add(y, 1);
  t.add(z, 1);
  ASSERT_EQ(t.sort(), 4u);
  // 0x700, 0x800, 0x900 all have self 1, cum 1; 0x10 has self 0.
  EXPECT_EQ(slots[0].function, 0x700u);
  EXPECT_EQ(slots[1].function, 0x800u);
  EXPECT_EQ(slots[2].function, 0x900u);
  EXPECT_EQ(slots[3].function, 0x10u);
}

TEST(FunctionTally, AFullTableCountsWhatItCouldNotPlace) {
  std::vector<TallyEntry> slots(4);
  FunctionTally t(slots.data(), slots.size());
  for (uint64_t f = 1; f <= 4; ++f) ASSERT_TRUE(t.add(&f, 1));
  const uint64_t fifth = 5;
  EXPECT_FALSE(t.add(&fifth, 1));
  const uint64_t known = 2;
  EXPECT_TRUE(t.add(&known, 1)) << "known functions still count";
  EXPECT_EQ(t.samples(), 6u);
  EXPECT_EQ(t.unplaced(), 1u);
  ASSERT_EQ(t.sort(), 4u);
  EXPECT_EQ(slots[0].function, 2u);
  EXPECT_EQ(slots[0].self, 2u);
}

TEST(FunctionTally, ManyFunctionsAllFound) {
  std::vector<TallyEntry> slots(4096);
  FunctionTally t(slots.data(), slots.size());
  // Nearby, 16-byte-aligned addresses, as function starts are.
  for (uint64_t i = 0; i < 3000; ++i) {
    const uint64_t f = 0xffff'ffff'8010'0000 + i * 16;
    for (uint64_t k = 0; k <= i % 3; ++k) ASSERT_TRUE(t.add(&f, 1));
  }
  const size_t n = t.sort();
  ASSERT_EQ(n, 3000u);
  for (size_t i = 1; i < n; ++i) ASSERT_GE(slots[i - 1].self, slots[i].self);
  EXPECT_EQ(slots[0].self, 3u);
  EXPECT_EQ(slots[n - 1].self, 1u);
}

TEST(FunctionTallyDeathTest, CapacityMustBeAPowerOfTwo) {
  std::vector<TallyEntry> slots(6);
  EXPECT_DEATH(FunctionTally(slots.data(), slots.size()), "not a power of two");
}

}  // namespace
}  // namespace prof
