#include "src/mm/heap_charge.h"

#include <gtest/gtest.h>

#include <random>

#include "src/mm/heap_overrun_sites.h"

namespace mm {
namespace {

HeapClassCounts counts_of(unsigned cls, uint32_t n) {
  HeapClassCounts c{};
  c[cls] = n;
  return c;
}

TEST(HeapCharge, AllocWithinLimitTakesNoSlowPath) {
  HeapCharge c;
  c.reset_for(counts_of(3, 2));
  EXPECT_FALSE(heap_charge_alloc(c, 3));
  EXPECT_FALSE(heap_charge_alloc(c, 3));
  EXPECT_EQ(c.used[3], 2u);
  EXPECT_EQ(c.peak[3], 2u);
  EXPECT_EQ(c.credit(3), 0);
  EXPECT_TRUE(heap_charge_alloc(c, 3));  // the third passes the limit
}

TEST(HeapCharge, PeakIsTheHighestUseNotTheLast) {
  HeapCharge c;
  c.reset_for(counts_of(0, 10));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(heap_charge_alloc(c, 0));
  for (int i = 0; i < 3; ++i) heap_charge_free(c, 0);
  EXPECT_FALSE(heap_charge_alloc(c, 0));
  EXPECT_EQ(c.used[0], 2u);
  EXPECT_EQ(c.peak[0], 4u);
}

TEST(HeapCharge, FreesOfOthersObjectsAreCredit) {
  HeapCharge c;
  c.reset_for(counts_of(5, 1));
  heap_charge_free(c, 5);
  heap_charge_free(c, 5);
  EXPECT_EQ(static_cast<int32_t>(c.used[5]), -2);
  EXPECT_EQ(c.credit(5), 3);
  // Allocating back up to the limit passes no peak above it.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(heap_charge_alloc(c, 5));
  EXPECT_TRUE(heap_charge_alloc(c, 5));
}

TEST(HeapCharge, TouchedMarksEveryClassWhoseUseOrPeakMoved) {
  HeapCharge c;
  c.reset_for(counts_of(2, 4));
  EXPECT_EQ(c.touched, 0u);
  EXPECT_FALSE(heap_charge_alloc(c, 2));  // first allocation: past the zero peak
  EXPECT_EQ(c.touched, 1u << 2);
  heap_charge_free(c, 2);
  EXPECT_FALSE(heap_charge_alloc(c, 2));  // back to the old peak: no new mark needed
  heap_charge_free(c, 7);                 // a free alone marks its class
  heap_charge_free(c, kHeapNumClasses - 1);
  EXPECT_EQ(c.touched, (1u << 2) | (1u << 7) | (1u << (kHeapNumClasses - 1)));
  c.reset_for(counts_of(2, 4));
  EXPECT_EQ(c.touched, 0u);
}

// The claim rt's sparse release rests on: any class whose used or peak is
// nonzero is marked, whatever the order of allocations and frees.
TEST(HeapCharge, UntouchedClassesHaveZeroUseAndPeak) {
  std::mt19937 rng(12);
  for (int round = 0; round < 200; ++round) {
    HeapCharge c;
    c.reset_for(counts_of(rng() % kHeapNumClasses, 3));
    for (int op = 0; op < 40; ++op) {
      const unsigned cls = rng() % 6;  // few classes, so they repeat
      if (rng() % 2 != 0) {
        (void)heap_charge_alloc(c, cls);
      } else {
        heap_charge_free(c, cls);
      }
    }
    for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) {
      if ((c.touched & (1u << cls)) != 0) continue;
      EXPECT_EQ(c.used[cls], 0u) << cls;
      EXPECT_EQ(c.peak[cls], 0u) << cls;
    }
  }
}

TEST(HeapCharge, OverrunIsPaidFromTheBudgetAndCounted) {
  HeapBudget budget(1000);
  HeapCharge c;
  c.reset_for(counts_of(1, 1));  // class 1: 16 bytes
  EXPECT_FALSE(heap_charge_alloc(c, 1));
  ASSERT_TRUE(heap_charge_alloc(c, 1));
  heap_charge_overrun(c, 1, budget);
  EXPECT_EQ(c.overruns, 1u);
  EXPECT_EQ(budget.left(), 1000 - 16);
  EXPECT_EQ(c.credit(1), 0);
  EXPECT_EQ(c.peak[1], 2u);  // the peak stays what was really used
  ASSERT_TRUE(heap_charge_alloc(c, 1));
  heap_charge_overrun(c, 1, budget);
  EXPECT_EQ(c.overruns, 2u);
}

TEST(HeapCharge, CpuAccountRefillsInBatchesAndTrimsExcess) {
  HeapBudget budget(1 << 20);
  HeapCharge c;
  c.per_cpu = true;
  const unsigned cls = 4;  // 64 bytes
  const uint32_t batch = heap_charge_refill_batch(cls);
  ASSERT_TRUE(heap_charge_alloc(c, cls));
  heap_charge_refill(c, cls, budget);
  EXPECT_EQ(c.limit[cls], batch);
  EXPECT_EQ(budget.left(), (1 << 20) - int64_t{batch} * 64);
  for (uint32_t i = 1; i < batch; ++i) EXPECT_FALSE(heap_charge_alloc(c, cls));
  EXPECT_TRUE(heap_charge_alloc(c, cls));
  heap_charge_refill(c, cls, budget);
  // Frees of many objects allocated elsewhere pile up credit; trimming
  // keeps one batch and gives the rest back.
  for (uint32_t i = 0; i < 5 * batch; ++i) heap_charge_free(c, cls);
  heap_charge_trim(c, cls, budget);
  EXPECT_EQ(c.credit(cls), batch);
  heap_charge_trim(c, cls, budget);
  EXPECT_EQ(c.credit(cls), batch);
}

// A trim lowers a CPU account's limit below peaks it reached; the next
// allocations past the (new) limit must still take the slow path.
TEST(HeapCharge, CpuAccountRefillsAgainAfterATrimLoweredItsLimit) {
  HeapBudget budget(1 << 20);
  HeapCharge c;
  c.per_cpu = true;
  const unsigned cls = 4;
  const uint32_t batch = heap_charge_refill_batch(cls);
  ASSERT_TRUE(heap_charge_alloc(c, cls));
  heap_charge_refill(c, cls, budget);
  for (uint32_t i = 1; i < batch; ++i) ASSERT_FALSE(heap_charge_alloc(c, cls));  // peak = batch
  for (uint32_t i = 0; i < 4 * batch; ++i) heap_charge_free(c, cls);
  heap_charge_trim(c, cls, budget);
  ASSERT_EQ(c.credit(cls), batch);
  uint32_t before_slow = 0;
  while (!heap_charge_alloc(c, cls)) ++before_slow;
  EXPECT_EQ(before_slow, batch);  // exactly its credit, then a refill
  EXPECT_EQ(c.credit(cls), -1);
  heap_charge_refill(c, cls, budget);
  EXPECT_GE(c.credit(cls), 0);
}

// The invariant the kernel relies on, under random operations on several
// accounts: budget left + credit of every account + live = max.
TEST(HeapCharge, BudgetPlusCreditPlusLiveIsConstant) {
  constexpr int64_t kMax = 1 << 24;
  HeapBudget budget(kMax);
  HeapCharge cpu;
  cpu.per_cpu = true;
  HeapCharge res;
  HeapClassCounts want{};
  for (unsigned c = 0; c < kHeapNumClasses; ++c) want[c] = c % 3;
  ASSERT_TRUE(budget.try_take(static_cast<int64_t>(class_counts_bytes(want))));
  res.reset_for(want);
  int64_t live = 0;
  std::mt19937 rng(7);
  std::vector<unsigned> objects;
  for (int step = 0; step < 20000; ++step) {
    HeapCharge& acct = rng() % 2 ? cpu : res;
    const bool alloc = objects.empty() || rng() % 3 != 0;
    if (alloc) {
      unsigned cls = rng() % kHeapNumClasses;
      if (heap_charge_alloc(acct, cls)) {
        if (acct.per_cpu)
          heap_charge_refill(acct, cls, budget);
        else
          heap_charge_overrun(acct, cls, budget);
      }
      objects.push_back(cls);
      live += heap_class(cls).size;
    } else {
      // Mostly frees on the CPU account, of objects either allocated: its
      // credit piles up and is trimmed, which lowers its limit below peaks.
      size_t i = rng() % objects.size();
      unsigned cls = objects[i];
      objects[i] = objects.back();
      objects.pop_back();
      heap_charge_free(acct, cls);
      if (acct.per_cpu) heap_charge_trim(acct, cls, budget);
      live -= heap_class(cls).size;
    }
    ASSERT_EQ(budget.left() + cpu.credit_bytes() + res.credit_bytes() + live, kMax) << "step " << step;
    // Nothing is ever allocated on credit an account does not have.
    for (unsigned c = 0; c < kHeapNumClasses; ++c) {
      ASSERT_GE(cpu.credit(c), 0) << "step " << step << " class " << c;
      ASSERT_GE(res.credit(c), 0) << "step " << step << " class " << c;
    }
  }
  EXPECT_GT(res.overruns, 0u);
}

TEST(HeapBudget, TryTakeNeverTakesMoreThanIsLeft) {
  HeapBudget b(100);
  EXPECT_TRUE(b.try_take(60));
  EXPECT_FALSE(b.try_take(41));
  EXPECT_EQ(b.left(), 40);
  b.force_take(50);
  EXPECT_EQ(b.left(), -10);
  EXPECT_FALSE(b.try_take(1));
  b.give(10);
  EXPECT_TRUE(b.try_take(0));
}

TEST(HeapBudget, SetMaxMovesTheDifference) {
  HeapBudget b(1000);
  ASSERT_TRUE(b.try_take(800));
  b.set_max(500);  // lowered below what is promised: negative
  EXPECT_EQ(b.left(), -300);
  EXPECT_EQ(b.max(), 500);
  b.set_max(2000);
  EXPECT_EQ(b.left(), 1200);
}

TEST(OverrunSites, EachSiteIsFirstOnce) {
  OverrunSites<8> s;
  EXPECT_EQ(s.insert(0x1000), OverrunSites<8>::Insert::kFirst);
  EXPECT_EQ(s.insert(0x1000), OverrunSites<8>::Insert::kSeen);
  EXPECT_EQ(s.insert(0x2000), OverrunSites<8>::Insert::kFirst);
  EXPECT_EQ(s.count(), 2u);
}

TEST(OverrunSites, FullSetSaysSo) {
  OverrunSites<4> s;
  for (uint64_t i = 1; i <= 4; ++i) EXPECT_EQ(s.insert(i * 0x40), OverrunSites<4>::Insert::kFirst);
  EXPECT_EQ(s.insert(0x999), OverrunSites<4>::Insert::kFull);
  EXPECT_EQ(s.insert(0x40), OverrunSites<4>::Insert::kSeen);
  size_t n = 0;
  s.for_each([&](uint64_t) { ++n; });
  EXPECT_EQ(n, 4u);
}

}  // namespace
}  // namespace mm
