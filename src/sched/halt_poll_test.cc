#include "src/sched/halt_poll.h"

#include <gtest/gtest.h>

namespace sched {
namespace {

constexpr uint64_t kMax = 200;
constexpr uint64_t kStart = 50;

HaltPoll make() {
  HaltPoll p;
  p.configure(kMax, kStart);
  return p;
}

TEST(HaltPoll, StartsHaltingAtOnce) { EXPECT_EQ(make().window(), 0u); }

TEST(HaltPoll, AShortWaitGrowsToGrowStartThenDoubles) {
  HaltPoll p = make();
  p.on_work(10);  // halted, but work came soon: polling would have caught it
  EXPECT_EQ(p.window(), kStart);
  p.on_work(kStart + 1);
  EXPECT_EQ(p.window(), 2 * kStart);
  p.on_work(2 * kStart + 1);
  EXPECT_EQ(p.window(), kMax);  // 200: capped at the maximum
  p.on_work(kMax);
  EXPECT_EQ(p.window(), kMax);
}

TEST(HaltPoll, WorkFoundWhilePollingKeepsTheWindow) {
  HaltPoll p = make();
  p.on_work(60);
  p.on_work(60);
  ASSERT_EQ(p.window(), 2 * kStart);
  for (int i = 0; i < 10; ++i) p.on_work(2 * kStart);
  EXPECT_EQ(p.window(), 2 * kStart);
  p.on_work(0);
  EXPECT_EQ(p.window(), 2 * kStart);
}

TEST(HaltPoll, LongIdlePeriodsShrinkToZero) {
  HaltPoll p = make();
  p.on_work(150);
  p.on_work(150);
  p.on_work(190);
  ASSERT_EQ(p.window(), kMax);
  p.on_work(kMax + 1);
  EXPECT_EQ(p.window(), kMax / 2);
  p.on_work(1'000'000);
  EXPECT_EQ(p.window(), kStart);
  p.on_work(1'000'000);
  EXPECT_EQ(p.window(), 0u);  // below grow_start: halt at once
  p.on_work(1'000'000);
  EXPECT_EQ(p.window(), 0u);
}

TEST(HaltPoll, NeverExceedsTheMaximum) {
  HaltPoll p;
  p.configure(120, 50);
  for (uint64_t w : {10u, 60u, 110u, 119u, 120u, 5u}) {
    p.on_work(w);
    EXPECT_LE(p.window(), 120u);
  }
  EXPECT_EQ(p.window(), 120u);
}

TEST(HaltPollDeathTest, RejectsAGrowStartOutsideTheMaximum) {
  HaltPoll p;
  EXPECT_DEATH(p.configure(100, 0), "grow start 0");
  EXPECT_DEATH(p.configure(100, 101), "grow start 101");
}

}  // namespace
}  // namespace sched
