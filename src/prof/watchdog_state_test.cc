// Tests for the watchdog's decision: progress by tick or by interrupts on,
// the limit, one report per episode, recovery.
#include "src/prof/watchdog_state.h"

#include <gtest/gtest.h>

namespace prof {
namespace {

constexpr uint64_t kLimit = 1000;

TEST(WatchdogState, TicksOrInterruptsOnAreProgress) {
  WatchdogState s;
  EXPECT_EQ(watchdog_step(s, 5, 0, false, 100, kLimit), WatchdogVerdict::kFine) << "the first look primes";
  EXPECT_EQ(s.progress_tsc, 100u);
  // The tick advanced: progress, even with interrupts off at this instant.
  EXPECT_EQ(watchdog_step(s, 6, 0, false, 5000, kLimit), WatchdogVerdict::kFine);
  EXPECT_EQ(s.progress_tsc, 5000u);
  // No tick, but interrupts on (a tickless idle CPU): progress.
  EXPECT_EQ(watchdog_step(s, 6, 0, true, 9000, kLimit), WatchdogVerdict::kFine);
  EXPECT_EQ(s.progress_tsc, 9000u);
}

TEST(WatchdogState, IdlingIsProgress) {
  WatchdogState s;
  watchdog_step(s, 3, 100, false, 0, kLimit);
  EXPECT_EQ(watchdog_step(s, 3, 100, false, kLimit - 1, kLimit), WatchdogVerdict::kFine);
  // Halted in idle meanwhile (it got no watchdog NMI then): progress, not
  // a CPU stuck since the last look.
  EXPECT_EQ(watchdog_step(s, 3, 250, false, 5 * kLimit, kLimit), WatchdogVerdict::kFine);
  EXPECT_EQ(s.progress_tsc, 5 * kLimit);
  EXPECT_EQ(watchdog_step(s, 3, 250, false, 6 * kLimit, kLimit), WatchdogVerdict::kStuck);
}

TEST(WatchdogState, StuckIsReportedOnceAtTheLimitThenRecovers) {
  WatchdogState s;
  watchdog_step(s, 7, 0, false, 0, kLimit);
  EXPECT_EQ(watchdog_step(s, 7, 0, false, kLimit - 1, kLimit), WatchdogVerdict::kFine) << "one cycle short";
  EXPECT_EQ(watchdog_step(s, 7, 0, false, kLimit, kLimit), WatchdogVerdict::kStuck);
  EXPECT_EQ(watchdog_step(s, 7, 0, false, 5 * kLimit, kLimit), WatchdogVerdict::kStillStuck);
  EXPECT_EQ(s.progress_tsc, 0u) << "the stuck time keeps counting from the last progress";
  EXPECT_EQ(watchdog_step(s, 8, 0, false, 6 * kLimit, kLimit), WatchdogVerdict::kRecovered);
  EXPECT_EQ(watchdog_step(s, 8, 0, false, 6 * kLimit + 1, kLimit), WatchdogVerdict::kFine);
  // A second episode is reported again.
  EXPECT_EQ(watchdog_step(s, 8, 0, false, 7 * kLimit, kLimit), WatchdogVerdict::kStuck);
}

TEST(WatchdogState, TscWrapDoesNotFakeAStuckCpu) {
  WatchdogState s;
  const uint64_t near_wrap = ~uint64_t{0} - 10;
  watchdog_step(s, 1, 0, false, near_wrap, kLimit);
  EXPECT_EQ(watchdog_step(s, 1, 0, false, near_wrap + 20, kLimit), WatchdogVerdict::kFine);
  EXPECT_EQ(watchdog_step(s, 1, 0, false, near_wrap + kLimit, kLimit), WatchdogVerdict::kStuck);
}

}  // namespace
}  // namespace prof
