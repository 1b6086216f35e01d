#include "src/mm/fault_injection.h"

#include <gtest/gtest.h>

#include <set>

namespace mm {
namespace {

TEST(FaultInjection, SiteNamesMatchTheBootOptions) {
  EXPECT_STREQ(fault_site_name(FaultSite::kPage), "page");
  EXPECT_STREQ(fault_site_name(FaultSite::kHeap), "heap");
  EXPECT_STREQ(fault_site_name(FaultSite::kReserve), "reserve");
}

TEST(FaultInjection, StreamSeedsDifferPerCpuAndAreNeverZero) {
  std::set<uint64_t> seen;
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{2}, ~uint64_t{0}}) {
    for (uint32_t cpu = 0; cpu < 256; ++cpu) {
      const uint64_t s = fault_stream_seed(seed, cpu);
      EXPECT_NE(s, 0u);
      EXPECT_TRUE(seen.insert(s).second) << "seed " << seed << " cpu " << cpu;
    }
  }
}

TEST(FaultInjection, RateZeroNeverFailsAndDrawsNothing) {
  FaultStream f;
  f.seed(42, 0);
  const uint64_t state = f.state;
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(f.decide(FaultSite::kHeap, 0));
  EXPECT_EQ(f.state, state);
  EXPECT_EQ(f.draws[1], 0u);
  EXPECT_EQ(f.injected[1], 0u);
}

TEST(FaultInjection, RateThousandAlwaysFails) {
  FaultStream f;
  f.seed(7, 3);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(f.decide(FaultSite::kReserve, 1000));
  EXPECT_EQ(f.injected[2], 1000u);
  EXPECT_EQ(f.draws[2], 1000u);
  // Above the maximum behaves as the maximum.
  EXPECT_TRUE(f.decide(FaultSite::kReserve, 5000));
}

TEST(FaultInjection, RatesAreMetWithinStatisticalBounds) {
  for (uint32_t rate : {1u, 10u, 50u, 100u, 500u, 999u}) {
    FaultStream f;
    f.seed(12345, 1);
    constexpr int kN = 200'000;
    for (int i = 0; i < kN; ++i) (void)f.decide(FaultSite::kPage, rate);
    const double expected = kN * rate / 1000.0;
    // Five standard deviations of the binomial.
    const double sd = __builtin_sqrt(expected * (1.0 - rate / 1000.0));
    EXPECT_NEAR(static_cast<double>(f.injected[0]), expected, 5 * sd + 1) << "rate " << rate;
    EXPECT_EQ(f.draws[0], static_cast<uint64_t>(kN));
  }
}

TEST(FaultInjection, TheSameSeedAndCpuRepeatTheSequence) {
  FaultStream a, b, c;
  a.seed(99, 2);
  b.seed(99, 2);
  c.seed(99, 3);
  int differ = 0;
  for (int i = 0; i < 10'000; ++i) {
    const bool x = a.decide(FaultSite::kHeap, 300);
    EXPECT_EQ(x, b.decide(FaultSite::kHeap, 300));
    if (x != c.decide(FaultSite::kHeap, 300)) ++differ;
  }
  EXPECT_GT(differ, 1000);  // another CPU's stream is not the same one
}

TEST(FaultInjection, SitesCountSeparately) {
  FaultStream f;
  f.seed(5, 0);
  for (int i = 0; i < 100; ++i) {
    (void)f.decide(FaultSite::kPage, 1000);
    (void)f.decide(FaultSite::kHeap, 0);
    (void)f.decide(FaultSite::kReserve, 1000);
  }
  EXPECT_EQ(f.injected[0], 100u);
  EXPECT_EQ(f.injected[1], 0u);
  EXPECT_EQ(f.injected[2], 100u);
}

TEST(FaultInjection, ConfigAnyIsTrueOnlyWithARate) {
  FaultConfig c;
  EXPECT_FALSE(c.any());
  c.per_mille[2] = 1;
  EXPECT_TRUE(c.any());
  EXPECT_EQ(c.rate(FaultSite::kReserve), 1u);
}

}  // namespace
}  // namespace mm
