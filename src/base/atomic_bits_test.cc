#include "src/base/atomic_bits.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using base::Atomic;
using base::MemoryOrder;

constexpr int kWords = 8;

uint64_t word(const Atomic<uint64_t>* w, int i) { return w[i].load(MemoryOrder::kRelaxed); }

TEST(AtomicBits, SetReturnsTheOldBitAndTouchesOnlyThatBit) {
  Atomic<uint64_t> w[kWords];
  EXPECT_FALSE(base::atomic_test_and_set_bit(w, 0));
  EXPECT_TRUE(base::atomic_test_and_set_bit(w, 0));
  EXPECT_EQ(word(w, 0), 1u);
  // Offsets past the first word reach the later words (bit-string form).
  EXPECT_FALSE(base::atomic_test_and_set_bit(w, 64 + 63));
  EXPECT_FALSE(base::atomic_test_and_set_bit(w, 5 * 64 + 7));
  EXPECT_TRUE(base::atomic_test_and_set_bit(w, 5 * 64 + 7));
  EXPECT_EQ(word(w, 1), uint64_t{1} << 63);
  EXPECT_EQ(word(w, 5), uint64_t{1} << 7);
  for (int i : {2, 3, 4, 6, 7}) EXPECT_EQ(word(w, i), 0u) << i;
}

TEST(AtomicBits, ClearReturnsTheOldBitAndTouchesOnlyThatBit) {
  Atomic<uint64_t> w[kWords];
  for (auto& x : w) x.store(~uint64_t{0}, MemoryOrder::kRelaxed);
  EXPECT_TRUE(base::atomic_test_and_clear_bit(w, 3 * 64 + 31));
  EXPECT_FALSE(base::atomic_test_and_clear_bit(w, 3 * 64 + 31));
  EXPECT_EQ(word(w, 3), ~(uint64_t{1} << 31));
  EXPECT_TRUE(base::atomic_test_and_clear_bit(w, kWords * 64 - 1));
  EXPECT_EQ(word(w, kWords - 1), ~(uint64_t{1} << 63));
  for (int i : {0, 1, 2, 4, 5, 6}) EXPECT_EQ(word(w, i), ~uint64_t{0}) << i;
}

// Every bit is set by exactly one of several racing threads, and cleared by
// exactly one: the instruction is atomic across CPUs.
TEST(AtomicBits, RacingSettersAndClearersEachWinEveryBitOnce) {
  Atomic<uint64_t> w[kWords];
  constexpr int kThreads = 4, kRounds = 200;
  Atomic<uint64_t> sets{0}, clears{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        for (uint64_t b = 0; b < kWords * 64; ++b) {
          if ((r + t) % 2 == 0) {
            if (!base::atomic_test_and_set_bit(w, b)) sets.fetch_add(1, MemoryOrder::kRelaxed);
          } else if (base::atomic_test_and_clear_bit(w, b)) {
            clears.fetch_add(1, MemoryOrder::kRelaxed);
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  uint64_t still_set = 0;
  for (int i = 0; i < kWords; ++i) still_set += __builtin_popcountll(word(w, i));
  // Each bit alternates set, clear, set...: wins of set = wins of clear +
  // (1 if the bit ended set).
  EXPECT_EQ(sets.load(MemoryOrder::kRelaxed), clears.load(MemoryOrder::kRelaxed) + still_set);
  EXPECT_GT(sets.load(MemoryOrder::kRelaxed), 0u);
}

}  // namespace
