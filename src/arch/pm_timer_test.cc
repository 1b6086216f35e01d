// Tests for the PM-timer cross-check: wrap-around at both widths, the rate
// and its bound from exact spans, agreement and disagreement, bad spans,
// and the bracketed reader over a simulated port and TSC.
#include "src/arch/pm_timer.h"

#include <gtest/gtest.h>

namespace arch {
namespace {

TEST(PmTimer, TicksWrapAtTheCounterWidth) {
  EXPECT_EQ(pm_timer_ticks(0x00ff'ffff, 0x0000'0000, false), 1u);
  EXPECT_EQ(pm_timer_ticks(0x00ff'ffff, 0x0100'0000, true), 1u);
  // A 24-bit timer's upper byte reads as anything: only 24 bits count.
  EXPECT_EQ(pm_timer_ticks(0xab00'0010, 0xcd00'0020, false), 0x10u);
  EXPECT_EQ(pm_timer_ticks(100, 7'259, false), 7'159u);
}

// 2 ms of a 1 GHz TSC is 7,159.09 PM-timer ticks: 7,159 whole ones.
constexpr PmTimerSpan kTwoMs{2'000'000, 20, 7'159};

TEST(PmTimer, AgreesWithAnAccuratePit) {
  auto c = cross_check_tsc_hz(1'000'000'000, 100, kTwoMs);
  ASSERT_TRUE(c.ok());
  // 2e6 * 3,579,545 / 7,159 = 1,000,012,571: 13 ppm off, inside one tick.
  EXPECT_EQ(c.value().tsc_hz, 1'000'012'571u);
  EXPECT_EQ(c.value().apart_ppm, 12u);
  // 100 (PIT) + 140 (a tick in 7,159) + 11 (brackets) + 200 (crystals).
  EXPECT_EQ(c.value().bound_ppm, 100u + 140u + 11u + kCrossCheckSlackPpm);
  EXPECT_TRUE(c.value().agree);
}

TEST(PmTimer, NamesAPitWindowThatWasStretched) {
  // A vCPU held off inside the PIT window: its rate reads 0.1% high.
  auto c = cross_check_tsc_hz(1'001'000'000, 100, kTwoMs);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value().apart_ppm, 986u);
  EXPECT_FALSE(c.value().agree);
  // A longer span tightens the PM side: 20 ms gives 14 ppm of quantization.
  auto tight = cross_check_tsc_hz(1'000'300'000, 50, PmTimerSpan{20'000'000, 20, 71'590});
  ASSERT_TRUE(tight.ok());
  EXPECT_FALSE(tight.value().agree) << tight.value().bound_ppm;
  EXPECT_TRUE(cross_check_tsc_hz(1'000'200'000, 50, PmTimerSpan{20'000'000, 20, 71'590}).value().agree);
}

TEST(PmTimer, RefusesSpansThatSayNothing) {
  EXPECT_EQ(cross_check_tsc_hz(1'000'000'000, 100, PmTimerSpan{2'000'000, 20, 0}).error(),
            base::Error::kInvalidArgument);
  EXPECT_EQ(cross_check_tsc_hz(1'000'000'000, 100, PmTimerSpan{100, 100, 7}).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(cross_check_tsc_hz(0, 100, kTwoMs).error(), base::Error::kInvalidArgument);
  // A PM timer that did not count at its rate: 2 ms of TSC over 3 ticks.
  EXPECT_EQ(cross_check_tsc_hz(1'000'000'000, 100, PmTimerSpan{2'000'000, 20, 3}).error(), base::Error::kOutOfRange);
}

struct FakeClock {
  uint64_t now = 1'000;
  uint64_t step = 10;  // TSC cycles each read takes
  uint64_t tsc() { return now += step; }
};

struct FakePort {
  FakeClock* clock;
  uint16_t expected_port;
  uint32_t high_bits;  // garbage above a 24-bit counter
  uint32_t in32(uint16_t port) const {
    EXPECT_EQ(port, expected_port);
    clock->now += 500;  // a port read is slow (~0.5 us at 1 GHz)
    // The timer at 3.579545 MHz on a 1 GHz TSC, 24 bits.
    return high_bits | static_cast<uint32_t>((clock->now * kPmTimerHz / 1'000'000'000) & 0xff'ffff);
  }
};

TEST(PmTimer, ReaderBracketsEachReadAndSpansAcrossAWrap) {
  FakeClock clock;
  clock.now = 4'686'000'000;  // just before 2^24 ticks (4.687 s)
  PmTimerReader<FakePort, FakeClock> reader(FakePort{&clock, 0x608, 0xff00'0000}, clock, 0x608);
  auto a = reader.read();
  EXPECT_EQ(a.tsc_half_width, 255u);  // 10 + 500 cycles between the TSC reads
  clock.now += 2'000'000;
  auto b = reader.read();
  PmTimerSpan s = PmTimerReader<FakePort, FakeClock>::span(a, b, false);
  EXPECT_EQ(s.tsc_delta, 2'000'520u);
  EXPECT_EQ(s.tsc_uncertainty, 510u);
  EXPECT_NEAR(static_cast<double>(s.ticks), 2'000'520 * 3.579545e-3, 1.0);
  auto c = cross_check_tsc_hz(1'000'000'000, 100, s);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c.value().agree) << c.value().apart_ppm << " > " << c.value().bound_ppm;
}

}  // namespace
}  // namespace arch
