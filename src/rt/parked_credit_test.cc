#include "src/rt/parked_credit.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace rt {
namespace {

struct Site {
  uint64_t credit;  // what one parking of it holds
};
using Parked = ParkedCredit<Site>;

TEST(ParkedCredit, AnEmptyWordHasNothingToTakeOrReclaim) {
  base::Atomic<uintptr_t> word{0};
  Parked p(word);
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.parked(), nullptr);
  EXPECT_EQ(p.reclaim(), nullptr);
  EXPECT_TRUE(p.empty());  // a reclaim never writes a 0 word
  const Parked::Taken t = Parked::decode(p.take());
  EXPECT_EQ(t.site, nullptr);
  EXPECT_FALSE(t.credit);
}

TEST(ParkedCredit, TheOwnerTakesBackWhatItParked) {
  base::Atomic<uintptr_t> word{0};
  Parked p(word);
  Site s{3};
  p.park(&s);
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.parked(), &s);
  const Parked::Taken t = Parked::decode(p.take());
  EXPECT_EQ(t.site, &s);
  EXPECT_TRUE(t.credit);
  EXPECT_TRUE(p.empty());
}

TEST(ParkedCredit, AReclaimTakesTheCreditOnceAndLeavesTheOwnerItsLimitsToClear) {
  base::Atomic<uintptr_t> word{0};
  Parked p(word);
  Site s{3};
  p.park(&s);
  EXPECT_EQ(p.reclaim(), &s);
  EXPECT_EQ(p.reclaim(), nullptr);  // the second finds it gone
  EXPECT_EQ(p.parked(), nullptr);   // no longer counted as parked
  EXPECT_FALSE(p.empty());          // but the owner must still clear its account
  const Parked::Taken t = Parked::decode(p.take());
  EXPECT_EQ(t.site, &s);
  EXPECT_FALSE(t.credit);
  EXPECT_TRUE(p.empty());
}

TEST(ParkedCredit, AReclaimAfterTheOwnerTookItFindsNothing) {
  base::Atomic<uintptr_t> word{0};
  Parked p(word);
  Site s{3};
  p.park(&s);
  EXPECT_TRUE(Parked::decode(p.take()).credit);
  EXPECT_EQ(p.reclaim(), nullptr);
  EXPECT_TRUE(p.empty());
}

// The conservation the protocol exists for: an owner parks and takes back
// credit while reclaimers race to take it away; every parking's credit ends
// with exactly one party, so the credit put in equals the credit out.
TEST(ParkedCredit, EveryParkingsCreditGoesToExactlyOneParty) {
  constexpr int kReclaimers = 3;
  constexpr uint64_t kRounds = 200'000;
  base::Atomic<uintptr_t> word{0};
  Site sites[2] = {{1}, {1000}};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reclaimed{0};
  std::vector<std::thread> reclaimers;
  for (int i = 0; i < kReclaimers; ++i) {
    reclaimers.emplace_back([&] {
      Parked p(word);
      while (!stop.load(std::memory_order_acquire)) {
        if (Site* s = p.reclaim(); s != nullptr) reclaimed.fetch_add(s->credit, std::memory_order_relaxed);
      }
    });
  }
  Parked owner(word);
  uint64_t parked = 0, taken_back = 0;
  for (uint64_t i = 0; i < kRounds; ++i) {
    const Parked::Taken t = Parked::decode(owner.take());
    if (t.credit) taken_back += t.site->credit;
    Site* s = &sites[i % 2];
    owner.park(s);
    parked += s->credit;
  }
  stop.store(true, std::memory_order_release);
  for (std::thread& r : reclaimers) r.join();
  // What is still parked at the end is neither taken back nor reclaimed.
  const Parked::Taken last = Parked::decode(owner.take());
  const uint64_t left = last.credit ? last.site->credit : 0;
  EXPECT_EQ(parked, taken_back + reclaimed.load() + left);
  EXPECT_GT(taken_back, 0u);
  EXPECT_TRUE(owner.empty());
}

}  // namespace
}  // namespace rt
