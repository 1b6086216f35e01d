// Tests for PIT calibration: a simulated machine (PIT channel 2 behind port
// 0x61, a TSC and a LAPIC timer, all driven by one picosecond clock that
// every port access advances) checks the programming sequence, accuracy
// and the bounded waits; plus the 128-bit arithmetic, TSC scales and the
// CPUID 0x15/0x16 trust rules.
#include "src/arch/pit.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace arch {
namespace {

using u128 = unsigned __int128;
constexpr uint64_t kPsPerSecond = 1'000'000'000'000;

// One simulated PC. The 8254 follows its datasheet for mode 0: a count
// written at time t is loaded on the first CLK edge after t and OUT rises N
// edges later; with the gate low nothing counts.
class SimMachine {
 public:
  uint64_t now_ps = 0;
  uint64_t io_cost_ps = 1'000'000;  // an ISA port access: ~1 us on hardware
  uint64_t io_jitter_ps = 0;        // plus up to this much, at random
  uint64_t tsc_read_cost_ps = 10'000;
  uint64_t lapic_read_cost_ps = 100'000;  // an uncached MMIO read
  uint64_t tsc_hz = 2'893'456'789;
  uint64_t tsc_offset = 987'654'321;
  uint64_t lapic_hz = 62'500'000;  // 1 GHz bus / 16 (QEMU)
  bool pit_present = true;
  bool gate_wired = true;  // false: channel 2 never counts
  // QEMU 7.2's 8254 leaves OUT as it was (high, after an earlier count)
  // until a new count is fully written, where the datasheet drives it low
  // at the mode command.
  bool qemu_out = false;
  std::vector<uint64_t> stalled_lapic_reads;  // 1-based read numbers that stall (an SMI)
  uint64_t stall_ps = 50'000'000;
  // The host deschedules the vCPU once, during the first port access at or
  // after host_stall_at_ps, for host_stall_ps.
  uint64_t host_stall_at_ps = ~uint64_t{0};
  uint64_t host_stall_ps = 0;
  std::vector<std::pair<uint16_t, uint8_t>> writes;
  uint64_t polls = 0;

  explicit SimMachine(uint8_t port_b_low = 0b0110) : port_b_low_(port_b_low & 0x0f) {}

  static uint64_t edge_index(uint64_t t_ps) { return static_cast<uint64_t>(u128{t_ps} * kPitHz / kPsPerSecond); }

  // --- port I/O provider
  void out8(uint16_t port, uint8_t v) {
    now_ps += io_cost();
    writes.push_back({port, v});
    switch (port) {
      case kPortB:
        port_b_low_ = v & 0x0f;
        break;
      case kPitCommandPort:
        EXPECT_EQ(v, 0xb0);
        armed_ = false;  // OUT low after the mode command
        high_byte_next_ = false;
        break;
      case kPitChannel2Port:
        if (!high_byte_next_) {
          count_ = v;
          high_byte_next_ = true;
        } else {
          count_ |= uint16_t{v} << 8;
          high_byte_next_ = false;
          armed_ = true;
          out_edge_ = edge_index(now_ps) + 1 + count_;
        }
        break;
      default:
        ADD_FAILURE() << "write to port " << port;
    }
  }
  uint8_t in8(uint16_t port) {
    now_ps += io_cost();
    EXPECT_EQ(port, kPortB);
    ++polls;
    if (!pit_present) return 0xff;
    refresh_ ^= 1 << 4;
    return static_cast<uint8_t>(port_b_low_ | refresh_ | (out() ? kPortBOut2 : 0));
  }
  void relax() { now_ps += 40'000; }

  // --- counters provider
  uint64_t tsc() {
    now_ps += tsc_read_cost_ps;
    return tsc_offset + static_cast<uint64_t>(u128{now_ps} * tsc_hz / kPsPerSecond);
  }
  uint32_t lapic_count() {
    now_ps += lapic_read_cost_ps;
    ++lapic_reads_;
    for (uint64_t n : stalled_lapic_reads)
      if (n == lapic_reads_) now_ps += stall_ps;
    return static_cast<uint32_t>(0xffff'ffffu - u128{now_ps} * lapic_hz / kPsPerSecond);
  }

  bool gate() const { return port_b_low_ & kPortBGate2; }
  bool speaker() const { return port_b_low_ & kPortBSpeaker; }
  uint8_t port_b_low() const { return port_b_low_; }

 private:
  uint64_t io_cost() {
    uint64_t cost = io_cost_ps + (io_jitter_ps ? rng_() % io_jitter_ps : 0);
    if (now_ps >= host_stall_at_ps) {
      cost += host_stall_ps;
      host_stall_at_ps = ~uint64_t{0};
    }
    return cost;
  }
  bool out() const {
    if (!armed_) return qemu_out;
    if (!gate_wired || !gate()) return false;
    return edge_index(now_ps) >= out_edge_;
  }

  uint8_t port_b_low_;
  uint8_t refresh_ = 0;
  bool armed_ = false, high_byte_next_ = false;
  uint16_t count_ = 0;
  uint64_t out_edge_ = 0;
  uint64_t lapic_reads_ = 0;
  std::mt19937_64 rng_{1};
};

struct SimRef {
  SimMachine* m;
  void out8(uint16_t p, uint8_t v) const { m->out8(p, v); }
  uint8_t in8(uint16_t p) const { return m->in8(p); }
  void relax() const { m->relax(); }
};

double ppm(uint64_t got, uint64_t want) {
  return (static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want) * 1e6;
}

// --- PIT programming -----------------------------------------------------------

TEST(Pit, CountForMicroseconds) {
  EXPECT_EQ(pit_count_for_us(10'000).value(), 11'932);
  EXPECT_EQ(pit_count_for_us(1).value(), 1);
  EXPECT_EQ(pit_count_for_us(54'924).value(), 65'534);
  EXPECT_EQ(pit_count_for_us(0).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(pit_count_for_us(54'925).error(), base::Error::kOutOfRange);
  EXPECT_EQ(pit_count_for_us(0xffff'ffff).error(), base::Error::kOutOfRange);
}

TEST(Pit, StartAndStopSequence) {
  SimMachine m(0b0110);  // speaker on, a channel-check bit set
  PitChannel2<SimRef> pit(SimRef{&m});
  pit.start(0x1234);
  // Gate on, speaker off, bits 3:2 kept; then mode 0, low byte, high byte.
  EXPECT_EQ(m.writes,
            (std::vector<std::pair<uint16_t, uint8_t>>{{0x61, 0x05}, {0x43, 0xb0}, {0x42, 0x34}, {0x42, 0x12}}));
  EXPECT_FALSE(pit.expired());
  m.now_ps += 0x1235 * kPsPerSecond / kPitHz + 1'000'000;
  EXPECT_TRUE(pit.expired());
  m.writes.clear();
  pit.stop();
  EXPECT_EQ(m.writes, (std::vector<std::pair<uint16_t, uint8_t>>{{0x61, 0x04}}));
  EXPECT_FALSE(m.gate());
  EXPECT_FALSE(m.speaker());
}

TEST(Pit, WaitIsBounded) {
  SimMachine m;
  m.gate_wired = false;
  PitChannel2<SimRef> pit(SimRef{&m});
  pit.start(100);
  EXPECT_EQ(pit.wait(500).error(), base::Error::kTimedOut);
  EXPECT_EQ(m.polls, 1u + 500u);  // start() reads port B once

  SimMachine ok;
  PitChannel2<SimRef> pit2(SimRef{&ok});
  pit2.start(100);  // ~84 us: about 84 polls of 1 us
  EXPECT_TRUE(pit2.wait(1000).ok());
  EXPECT_LT(ok.polls, 100u);
}

// --- Calibration over the simulated machine ------------------------------------

TEST(PitCalibration, MeasuresTscAndLapicWithinBudget) {
  std::mt19937_64 rng(42);
  // Port accesses of 0.7-1.3 us (hardware) and of 0.1 us.
  for (uint64_t io_cost : {700'000ull, 100'000ull}) {
    for (int trial = 0; trial < 200; ++trial) {
      SimMachine m;
      m.io_cost_ps = io_cost;
      m.io_jitter_ps = io_cost == 700'000 ? 600'000 : 0;
      m.qemu_out = trial % 2 == 1;
      m.now_ps = rng() % (1000 * kPsPerSecond);  // any PIT clock phase
      m.tsc_hz = 500'000'000 + rng() % 4'500'000'000;
      PitChannel2<SimRef> pit(SimRef{&m});
      const uint64_t t0 = m.now_ps;
      base::Result<PitWindow> w = measure_pit_window(pit, m);
      ASSERT_TRUE(w.ok());
      // The whole calibration, programming included, stays near 10 ms.
      EXPECT_LT(m.now_ps - t0, 10'020 * 1'000'000ull);
      EXPECT_EQ(w.value().pit_count, 11'932);
      EXPECT_FALSE(m.gate());

      base::Result<ClockRates> r = clock_rates(w.value());
      ASSERT_TRUE(r.ok());
      // The window's own error bound holds.
      EXPECT_LE(std::abs(ppm(r.value().tsc_hz, m.tsc_hz)), pit_window_error_ppm(w.value()) + 1.0);
      // Error budget: half a PIT period (42 ppm of 10 ms) plus half of
      // each bracket (the high-byte write, and ~1-2 polls at the end: up to
      // ~200 ppm with 1.3 us port accesses; ~15 ppm with 0.1 us). The LAPIC
      // rate comes from its ratio to the TSC: the TSC's error plus a count
      // in 625k.
      const double budget = io_cost == 700'000 ? 250 : 60;
      EXPECT_LT(std::abs(ppm(r.value().tsc_hz, m.tsc_hz)), budget) << m.tsc_hz;
      EXPECT_LT(std::abs(ppm(r.value().lapic_timer_hz, m.lapic_hz)), budget + 3);
    }
  }
}

TEST(PitCalibration, StalledLapicReadsAreBracketedOut) {
  // Reads 1-5 warm up, 6-10 sample the start, 11-15 the end. Stall most of
  // the start's by 50 us: taken at face value (or with one try, when read 2
  // is the start) that is 2500 ppm of the window.
  SimMachine m;
  m.stalled_lapic_reads = {2, 6, 7, 9};
  PitChannel2<SimRef> pit(SimRef{&m});
  base::Result<PitWindow> w = measure_pit_window(pit, m);
  ASSERT_TRUE(w.ok());
  ClockRates r = clock_rates(w.value()).value();
  EXPECT_LT(std::abs(ppm(r.tsc_hz, m.tsc_hz)), 110);
  // The LAPIC rate is TSC-relative: the TSC's error, and almost nothing more.
  EXPECT_LT(std::abs(ppm(r.lapic_timer_hz, m.lapic_hz) - ppm(r.tsc_hz, m.tsc_hz)), 2);
}

TEST(PitCalibration, HostStallIsBoundedAndRetried) {
  // The vCPU is descheduled for 2.5 ms just before OUT rises: the rise is
  // seen 2.5 ms late. One window reports a correspondingly wide bound;
  // calibrate_clocks() measures another.
  for (bool whole : {false, true}) {
    SimMachine m;
    m.host_stall_at_ps = m.now_ps + 9'900 * 1'000'000ull;
    m.host_stall_ps = 2'500 * 1'000'000ull;
    PitChannel2<SimRef> pit(SimRef{&m});
    if (!whole) {
      PitWindow w = measure_pit_window(pit, m).value();
      const uint64_t bound = pit_window_error_ppm(w);
      EXPECT_GT(bound, 100'000u);
      EXPECT_LE(std::abs(ppm(clock_rates(w).value().tsc_hz, m.tsc_hz)), bound);
    } else {
      Calibration c = calibrate_clocks(pit, m).value();
      EXPECT_EQ(c.windows, 2);
      EXPECT_LE(c.error_ppm, kCalibrationTargetPpm);
      EXPECT_LT(std::abs(ppm(c.rates.tsc_hz, m.tsc_hz)), 250);
      EXPECT_LE(std::abs(ppm(c.rates.tsc_hz, m.tsc_hz)), c.error_ppm);
      EXPECT_LT(std::abs(ppm(c.rates.lapic_timer_hz, m.lapic_hz)), 260);
    }
  }
}

TEST(PitCalibration, ErrorBoundHoldsUnderRandomStalls) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 2000; ++trial) {
    SimMachine m;
    m.io_cost_ps = 500'000 + rng() % 10'000'000;  // 0.5-10.5 us port accesses (TCG: ~10)
    m.io_jitter_ps = 1 + rng() % 2'000'000;
    m.now_ps = rng() % kPsPerSecond;
    m.host_stall_at_ps = m.now_ps + rng() % (12 * 1'000'000'000ull);
    m.host_stall_ps = rng() % (15 * 1'000'000'000ull);
    m.qemu_out = rng() % 2;
    PitChannel2<SimRef> pit(SimRef{&m});
    base::Result<PitWindow> mw = measure_pit_window(pit, m);
    if (!mw.ok()) {  // a stall over the window before the first poll
      ASSERT_EQ(mw.error(), base::Error::kAgain) << trial;
      continue;
    }
    PitWindow w = mw.value();
    base::Result<ClockRates> r = clock_rates(w);
    if (!r.ok()) continue;  // a stall can make a window implausible; calibrate retries
    ASSERT_LE(std::abs(ppm(r.value().tsc_hz, m.tsc_hz)), pit_window_error_ppm(w) + 1.0) << trial;
  }
}

TEST(PitCalibration, StallBeforeFirstPollIsRetriedNotMistakenForNoPit) {
  SimMachine m;
  m.qemu_out = true;
  m.host_stall_at_ps = m.now_ps + 5 * 1'000'000;  // hits the count's high-byte write
  m.host_stall_ps = 12'000 * 1'000'000ull;        // longer than the window
  PitChannel2<SimRef> pit(SimRef{&m});
  const uint64_t t0 = m.now_ps;
  EXPECT_EQ(measure_pit_window(pit, m).error(), base::Error::kAgain);
  EXPECT_LT(m.now_ps - t0, 12'100 * 1'000'000ull);

  SimMachine m2;
  m2.qemu_out = true;
  m2.host_stall_at_ps = m2.now_ps + 5 * 1'000'000;
  m2.host_stall_ps = 12'000 * 1'000'000ull;
  PitChannel2<SimRef> pit2(SimRef{&m2});
  Calibration c = calibrate_clocks(pit2, m2).value();
  EXPECT_EQ(c.windows, 2);
  EXPECT_LE(std::abs(ppm(c.rates.tsc_hz, m2.tsc_hz)), c.error_ppm);
}

TEST(PitCalibration, HardwareCalibratesInOneWindow) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 100; ++trial) {
    SimMachine m;  // 1 us port accesses
    m.now_ps = rng() % kPsPerSecond;
    m.io_jitter_ps = 1 + rng() % 200'000;
    PitChannel2<SimRef> pit(SimRef{&m});
    const uint64_t t0 = m.now_ps;
    Calibration c = calibrate_clocks(pit, m).value();
    EXPECT_EQ(c.windows, 1);
    EXPECT_LE(c.error_ppm, kCalibrationTargetPpm);
    EXPECT_LE(std::abs(ppm(c.rates.tsc_hz, m.tsc_hz)), c.error_ppm);
    EXPECT_LT(m.now_ps - t0, 10'050 * 1'000'000ull);  // the <= 10 ms window, plus set-up
  }
}

TEST(PitCalibration, CalibrateFailsFastWithoutPit) {
  SimMachine m;
  m.pit_present = false;
  PitChannel2<SimRef> pit(SimRef{&m});
  EXPECT_EQ(calibrate_clocks(pit, m).error(), base::Error::kUnsupported);
  EXPECT_LT(m.polls, 5u);
}

TEST(PitCalibration, NoPitIsUnsupported) {
  SimMachine m;
  m.pit_present = false;  // port 0x61 floats to 0xff: OUT "high" at once
  PitChannel2<SimRef> pit(SimRef{&m});
  EXPECT_EQ(measure_pit_window(pit, m).error(), base::Error::kUnsupported);
}

TEST(PitCalibration, StuckCounterTimesOutByTsc) {
  SimMachine m;
  m.gate_wired = false;
  PitChannel2<SimRef> pit(SimRef{&m});
  const uint64_t t0 = m.now_ps;
  EXPECT_EQ(measure_pit_window(pit, m).error(), base::Error::kTimedOut);
  // Bounded by 2 windows at 10 GHz: ~69 ms at this TSC's 2.9 GHz.
  EXPECT_LT(m.now_ps - t0, 100 * 1'000'000'000ull);
  EXPECT_GT(m.now_ps - t0, 20 * 1'000'000'000ull);
  EXPECT_FALSE(m.gate());  // stopped on the way out
}

// A host stall longer than a window's bound makes that window time out;
// calibration measures another instead of failing the boot (a 2-core host
// running four QEMUs did this to 2 of 20 boots with 2 ms windows).
TEST(PitCalibration, AWindowThatTimesOutIsRetried) {
  SimMachine m;
  m.host_stall_at_ps = m.now_ps + 1'000 * 1'000'000ull;  // 1 ms into the first window
  m.host_stall_ps = 200 * 1'000'000'000ull;              // 200 ms: past the poll bound
  PitChannel2<SimRef> pit(SimRef{&m});
  Calibration c = calibrate_clocks(pit, m, 2'000, 1'000, 6).value();
  EXPECT_EQ(c.windows, 2);
  EXPECT_LE(c.error_ppm, 1'000u);
  EXPECT_LE(std::abs(ppm(c.rates.tsc_hz, m.tsc_hz)), c.error_ppm);
}

// A PIT that never counts times out every window: the calibration gives up
// after all of them, not at the first.
TEST(PitCalibration, AStuckCounterFailsAfterEveryWindow) {
  SimMachine m;
  m.gate_wired = false;
  PitChannel2<SimRef> pit(SimRef{&m});
  EXPECT_EQ(calibrate_clocks(pit, m, 2'000, 1'000, 3).error(), base::Error::kAgain);
  EXPECT_FALSE(m.gate());
}

TEST(PitCalibration, StuckCounterAndTscTimesOutByPolls) {
  SimMachine m;
  m.gate_wired = false;
  m.tsc_hz = 0;  // a TSC that does not tick
  PitChannel2<SimRef> pit(SimRef{&m});
  EXPECT_EQ(measure_pit_window(pit, m, kCalibrationWindowUs, 1000).error(), base::Error::kTimedOut);
  EXPECT_LE(m.polls, 1u + 1000u + 1u);  // arm, polls, stop
}

TEST(PitCalibration, WindowLimits) {
  SimMachine m;
  PitChannel2<SimRef> pit(SimRef{&m});
  EXPECT_EQ(measure_pit_window(pit, m, 999).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(measure_pit_window(pit, m, 60'000).error(), base::Error::kOutOfRange);
  EXPECT_TRUE(m.writes.empty());
}

// --- Arithmetic ------------------------------------------------------------------

TEST(PitArithmetic, HzOverWindow) {
  // 2N + 1 = 23'865 half-periods.
  EXPECT_EQ(hz_over_pit_window(23'865'000, 11'932).value(), 2'386'364'000u);
  EXPECT_EQ(hz_over_pit_window(0, 11'932).value(), 0u);
  EXPECT_EQ(hz_over_pit_window(1, 0).error(), base::Error::kInvalidArgument);
  // A 64-bit delta over one PIT count overflows the result, not the math.
  EXPECT_EQ(hz_over_pit_window(~uint64_t{0}, 1).error(), base::Error::kOutOfRange);
  // Near the edge: the product needs ~85 bits, the quotient 62.2 / 64.2.
  EXPECT_EQ(hz_over_pit_window(1ull << 58, 0xffff).value(),
            static_cast<uint64_t>((u128{1} << 58) * 2 * kPitHz / (2 * 0xffff + 1)));
  EXPECT_EQ(hz_over_pit_window(1ull << 60, 0xffff).error(), base::Error::kOutOfRange);

  EXPECT_EQ(clock_rates({11'932, 1000, 0, 5, 1000}).error(), base::Error::kOutOfRange);  // a 100 kHz TSC
  ClockRates r = clock_rates({11'932, 23'865'000, 0, 0, 0}).value();
  EXPECT_EQ(r.tsc_hz, 2'386'364'000u);
  EXPECT_EQ(r.lapic_timer_hz, 0u);
  // Error bounds: brackets relative to the window, plus half a PIT period.
  EXPECT_EQ(pit_window_error_ppm({11'932, 23'865'000, 0, 0, 0}), 0u + 1u + 41u + 1u);
  // U / (D - U) = 1001.0 ppm; the phase term 41.9 * D / (D - U).
  EXPECT_EQ(pit_window_error_ppm({11'932, 23'865'000, 23'865, 0, 0}), 1001u + 1u + 41u + 1u);
  EXPECT_EQ(pit_window_error_ppm({11'932, 1000, 1000, 0, 0}), ~uint64_t{0});
  EXPECT_EQ(pit_window_error_ppm({11'932, 0, 0, 0, 0}), ~uint64_t{0});
  // The LAPIC rate is its ratio to the TSC over its own interval.
  EXPECT_EQ(clock_rates({11'932, 23'865'000, 4'000, 1'000'000, 23'900'000}).value().lapic_timer_hz,
            static_cast<uint64_t>(u128{1'000'000} * 2'386'364'000 / 23'900'000));
  EXPECT_EQ(clock_rates({11'932, 23'865'000, 4'000, 1'000'000, 0}).value().lapic_timer_hz, 0u);
}

TEST(PitArithmetic, DivU128MatchesCompiler) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200'000; ++i) {
    uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64), c = rng() >> (rng() % 64);
    if (c == 0) c = 1;
    u128 n = u128{a} * b;
    uint64_t q = 0, r = 0;
    bool fits = (n / c) >> 64 == 0;
    ASSERT_EQ(div_u128(n, c, &q, &r), fits) << a << " " << b << " " << c;
    if (fits) {
      ASSERT_EQ(q, static_cast<uint64_t>(n / c));
      ASSERT_EQ(r, static_cast<uint64_t>(n % c));
      ASSERT_EQ(mul_div(a, b, c).value(), q);
    } else {
      ASSERT_EQ(mul_div(a, b, c).error(), base::Error::kOutOfRange);
    }
  }
  uint64_t q = 0, r = 0;
  const uint64_t max = ~uint64_t{0};
  EXPECT_TRUE(div_u128((u128{max - 1} << 64) | max, max, &q, &r));  // the largest quotient
  EXPECT_EQ(q, max);
  EXPECT_EQ(r, max - 1);
  EXPECT_FALSE(div_u128(u128{max} << 64, max, &q, &r));
  EXPECT_FALSE(div_u128(1, 0, &q, &r));
}

TEST(PitArithmetic, TscToNsIsWithinOnePpmOverAMillionSeconds) {
  const uint64_t rates[] = {100'000'000,   1'000'000'000, 1'193'182'000, 2'386'364'000, 2'893'456'789,
                            3'840'000'000, 4'999'999'999, 7'654'321'098, 10'000'000'000};
  for (uint64_t hz : rates) {
    SCOPED_TRACE(hz);
    ClockScale to_ns = tsc_to_ns_scale(hz).value();
    ClockScale to_tsc = ns_to_tsc_scale(hz).value();
    for (uint64_t seconds : {1ull, 1000ull, 1'000'000ull}) {
      const uint64_t ticks = hz * seconds;
      const uint64_t want_ns = seconds * kNsPerSecond;
      const uint64_t got_ns = to_ns.apply(ticks);
      // The brief's budget is 1 ppm; the scale does ~1e-18 plus 1 ns of truncation.
      EXPECT_LT(std::abs(ppm(got_ns, want_ns)), 1.0);
      EXPECT_LE(want_ns - got_ns + 1, 2u) << got_ns;  // within [want - 1, want + 1]
      const uint64_t got_ticks = to_tsc.apply(want_ns);
      EXPECT_LT(std::abs(ppm(got_ticks, ticks)), 1.0);
      EXPECT_LE(ticks - got_ticks + 1, 2u) << got_ticks;
    }
    // Random points up to 10^6 s against exact 128-bit arithmetic.
    std::mt19937_64 rng(hz);
    for (int i = 0; i < 10'000; ++i) {
      uint64_t ticks = rng() % (hz * 1'000'000);
      uint64_t exact = static_cast<uint64_t>(u128{ticks} * kNsPerSecond / hz);
      uint64_t got = to_ns.apply(ticks);
      ASSERT_LE(got > exact ? got - exact : exact - got, 1u) << ticks;
    }
    EXPECT_LE(to_ns.shift, 63u);
  }
  EXPECT_FALSE(make_clock_scale(1, 0).ok());
  EXPECT_FALSE(make_clock_scale(0, 1).ok());
  EXPECT_EQ(make_clock_scale(~uint64_t{0}, 1).value().apply(1), ~uint64_t{0});
}

// --- CPUID 0x15/0x16 --------------------------------------------------------------

TEST(PitCpuid, TrustRules) {
  // Intel-like: 38.4 MHz crystal, 200/2 -> 3.84 GHz.
  CpuidTscClock c = tsc_from_cpuid({0x1b, 2, 200, 38'400'000, 3000}).value();
  EXPECT_EQ(c.tsc_hz, 3'840'000'000u);
  EXPECT_EQ(c.crystal_hz, 38'400'000u);
  EXPECT_FALSE(c.from_base_frequency);

  // Crystal not enumerated (Skylake client): the 0x16 base frequency.
  CpuidTscClock b = tsc_from_cpuid({0x16, 2, 250, 0, 3000}).value();
  EXPECT_EQ(b.tsc_hz, 3'000'000'000u);
  EXPECT_EQ(b.crystal_hz, 24'000'000u);
  EXPECT_TRUE(b.from_base_frequency);
  EXPECT_EQ(tsc_from_cpuid({0x15, 2, 250, 0, 3000}).error(), base::Error::kNotFound);  // 0x16 not covered

  // What QEMU's max model answers for 0x15 (leaf 0xD's data, max leaf 0xD).
  EXPECT_EQ(tsc_from_cpuid({0xd, 0x21f, 0x240, 0xa88, 0x21f}).error(), base::Error::kNotFound);
  // The same numbers with the max-leaf check fooled: a 2.9 kHz TSC.
  EXPECT_EQ(tsc_from_cpuid({0x16, 0x21f, 0x240, 0xa88, 0x21f}).error(), base::Error::kOutOfRange);

  EXPECT_EQ(tsc_from_cpuid({0x16, 0, 200, 38'400'000, 0}).error(), base::Error::kNotFound);
  EXPECT_EQ(tsc_from_cpuid({0x16, 2, 0, 38'400'000, 0}).error(), base::Error::kNotFound);
  EXPECT_EQ(tsc_from_cpuid({0x16, 2, 0, 0, 0}).error(), base::Error::kNotFound);
  // Plausibility bounds, 100 MHz to 10 GHz inclusive.
  EXPECT_TRUE(tsc_from_cpuid({0x15, 1, 4, 25'000'000, 0}).ok());
  EXPECT_EQ(tsc_from_cpuid({0x15, 1, 3, 25'000'000, 0}).error(), base::Error::kOutOfRange);
  EXPECT_TRUE(tsc_from_cpuid({0x15, 1, 400, 25'000'000, 0}).ok());
  EXPECT_EQ(tsc_from_cpuid({0x15, 1, 401, 25'000'000, 0}).error(), base::Error::kOutOfRange);
  EXPECT_EQ(tsc_from_cpuid({0x16, 1, 1, 0, 20'000}).error(), base::Error::kOutOfRange);
  // No overflow with both factors at 32 bits.
  EXPECT_EQ(tsc_from_cpuid({0x15, 1, 0xffff'ffff, 0xffff'ffff, 0}).error(), base::Error::kOutOfRange);
}

}  // namespace
}  // namespace arch

namespace {

struct Channel0Io {
  std::vector<std::pair<uint16_t, uint8_t>>* log;
  void out8(uint16_t port, uint8_t v) const { log->push_back({port, v}); }
};

TEST(PitChannel0, PeriodicTickProgramming) {
  std::vector<std::pair<uint16_t, uint8_t>> log;
  ASSERT_TRUE(arch::pit_start_periodic(Channel0Io{&log}, 1000).ok());
  std::vector<std::pair<uint16_t, uint8_t>> want = {{0x43, 0x34}, {0x40, 1193 & 0xff}, {0x40, 1193 >> 8}};
  EXPECT_EQ(log, want);
  EXPECT_EQ(arch::pit_periodic_divisor(100).value(), 11932);
  EXPECT_FALSE(arch::pit_periodic_divisor(18).ok()) << "below 18.2 Hz the divisor overflows 16 bits";
  EXPECT_FALSE(arch::pit_periodic_divisor(0).ok());
  EXPECT_FALSE(arch::pit_periodic_divisor(1'000'000).ok());
  log.clear();
  EXPECT_FALSE(arch::pit_start_periodic(Channel0Io{&log}, 5).ok());
  EXPECT_TRUE(log.empty()) << "nothing programmed on a bad rate";
}

}  // namespace
