#include "src/arch/ap_slot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace arch {
namespace {

TEST(ApSlot, AnApThatArrivesFirstIsWaitedFor) {
  ApSlot s;
  EXPECT_EQ(s.state(), ApSlot::kWaiting);
  EXPECT_TRUE(s.claim());
  EXPECT_EQ(s.state(), ApSlot::kStarting);
  EXPECT_FALSE(s.abandon());  // too late: the boot CPU must wait
  EXPECT_EQ(s.state(), ApSlot::kStarting);
  EXPECT_TRUE(s.set_online());
  EXPECT_EQ(s.state(), ApSlot::kOnline);
  EXPECT_FALSE(s.abandon());
  EXPECT_FALSE(s.claim());
}

TEST(ApSlot, AnApThatArrivesLateParks) {
  ApSlot s;
  EXPECT_TRUE(s.abandon());
  EXPECT_EQ(s.state(), ApSlot::kAbandoned);
  EXPECT_FALSE(s.claim());
  EXPECT_FALSE(s.set_online());
  EXPECT_EQ(s.state(), ApSlot::kAbandoned);
}

TEST(ApSlot, OnlineOnlyAfterAClaim) {
  ApSlot s;
  EXPECT_FALSE(s.set_online());
  EXPECT_EQ(s.state(), ApSlot::kWaiting);
}

// The race the boot meets with a slow AP: claim and abandon at once, many
// times; exactly one wins each time, and the loser sees the winner's state.
TEST(ApSlot, ClaimAndAbandonRacingHaveExactlyOneWinner) {
  constexpr int kRounds = 20000;
  for (int r = 0; r < kRounds; ++r) {
    ApSlot s;
    std::atomic<bool> go{false};
    bool claimed = false, abandoned = false;
    std::thread ap([&] {
      while (!go.load(std::memory_order_acquire)) {
      }
      claimed = s.claim();
    });
    go.store(true, std::memory_order_release);
    abandoned = s.abandon();
    ap.join();
    ASSERT_NE(claimed, abandoned) << "round " << r;
    ASSERT_EQ(s.state(), claimed ? ApSlot::kStarting : ApSlot::kAbandoned);
  }
}

}  // namespace
}  // namespace arch
