// Clock calibration: the 8254 PIT's channel 2 as a one-shot reference
// interval (its 1.193182 MHz input is fixed on every PC), the arithmetic
// that turns counter deltas over that interval into TSC and LAPIC-timer Hz
// with an error bound, the CPUID 0x15/0x16 shortcut and its sanity checks,
// and precomputed mult/shift scales so a TSC-to-ns conversion is one
// multiply and a shift. calibrate_clocks() is the entry point.
//
// Contexts: PitChannel2, measure_pit_window() and calibrate_clocks() are
// boot-time, one CPU, interrupts off (port 0x61 and the PIT are global, and
// an interrupt in the window widens it). The arithmetic is pure: any context.
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"

namespace arch {

// ---------------------------------------------------------------------------
// Arithmetic. Kernel code links no compiler runtime, so no 128-bit division
// (__udivti3): div_u128 is a plain long division. 64x64->128 multiplies and
// 128-bit shifts compile to inline instructions.

/// n / d for a 128-bit n; false (and nothing stored) when d is 0 or the
/// quotient does not fit in 64 bits.
constexpr bool div_u128(unsigned __int128 n, uint64_t d, uint64_t* quotient, uint64_t* remainder) {
  const uint64_t hi = static_cast<uint64_t>(n >> 64), lo = static_cast<uint64_t>(n);
  if (d == 0 || hi >= d) return false;
  uint64_t rem = hi, q = 0;
  for (int i = 63; i >= 0; --i) {
    // rem < d, so 2 * rem + 1 < 2 * d: one subtraction keeps rem < d. When
    // the shift carries out of bit 63 the true value is >= 2^64 > d, and
    // the wrapped subtraction still yields the right remainder.
    const bool carry = (rem >> 63) != 0;
    rem = (rem << 1) | ((lo >> i) & 1);
    q <<= 1;
    if (carry || rem >= d) {
      rem -= d;
      q |= 1;
    }
  }
  *quotient = q;
  *remainder = rem;
  return true;
}

/// a * b / c, rounded down, without intermediate overflow. kInvalidArgument
/// if c is 0, kOutOfRange if the result does not fit in 64 bits.
constexpr base::Result<uint64_t> mul_div(uint64_t a, uint64_t b, uint64_t c) {
  if (c == 0) return base::Error::kInvalidArgument;
  uint64_t q = 0, r = 0;
  if (!div_u128(static_cast<unsigned __int128>(a) * b, c, &q, &r)) return base::Error::kOutOfRange;
  return q;
}
static_assert(mul_div(~uint64_t{0}, 1'000'000'000, 1'000'000'000).value() == ~uint64_t{0});
static_assert(mul_div(1ull << 40, 1ull << 40, 1ull << 30).value() == 1ull << 50);
static_assert(!mul_div(1ull << 40, 1ull << 40, 1).ok() && !mul_div(1, 1, 0).ok());

/// x * num / den as (x * mult) >> shift: one 64x64->128 multiply and a
/// shift, for hot paths (nanotime, deadlines). Results past 2^64 wrap.
struct ClockScale {
  uint64_t mult;
  uint32_t shift;

  constexpr uint64_t apply(uint64_t x) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(x) * mult) >> shift);
  }
};

/// The most precise scale for num / den: the largest shift (<= 63) whose
/// rounded mult still fits in 64 bits, so mult >= 2^63 whenever
/// num / den >= 1 and the relative error of mult is below 2^-63.
/// kInvalidArgument if den is 0 or num / den >= 2^64.
constexpr base::Result<ClockScale> make_clock_scale(uint64_t num, uint64_t den) {
  if (den == 0 || num == 0) return base::Error::kInvalidArgument;
  for (int shift = 63; shift >= 0; --shift) {
    uint64_t q = 0, r = 0;
    if (!div_u128(static_cast<unsigned __int128>(num) << shift, den, &q, &r)) continue;
    if (r >= den - r) {  // round to nearest: r >= den / 2
      if (q == ~uint64_t{0}) continue;
      ++q;
    }
    return ClockScale{q, static_cast<uint32_t>(shift)};
  }
  return base::Error::kInvalidArgument;
}

inline constexpr uint64_t kNsPerSecond = 1'000'000'000;

/// TSC ticks to nanoseconds, for a TSC of `tsc_hz`.
constexpr base::Result<ClockScale> tsc_to_ns_scale(uint64_t tsc_hz) { return make_clock_scale(kNsPerSecond, tsc_hz); }
/// Nanoseconds to TSC ticks (deadlines).
constexpr base::Result<ClockScale> ns_to_tsc_scale(uint64_t tsc_hz) { return make_clock_scale(tsc_hz, kNsPerSecond); }
static_assert(tsc_to_ns_scale(1'000'000'000).value().apply(12345) == 12345);
static_assert(tsc_to_ns_scale(2'000'000'000).value().apply(1'000'000'000'000) == 500'000'000'000);
static_assert(ns_to_tsc_scale(3'000'000'000).value().apply(1'000'000) == 3'000'000);

/// TSC rates we believe: 100 MHz to 10 GHz. Anything else is a broken
/// measurement or made-up CPUID data.
inline constexpr uint64_t kMinPlausibleTscHz = 100'000'000;
inline constexpr uint64_t kMaxPlausibleTscHz = 10'000'000'000;
constexpr bool plausible_tsc_hz(uint64_t hz) { return hz >= kMinPlausibleTscHz && hz <= kMaxPlausibleTscHz; }

// ---------------------------------------------------------------------------
// CPUID 0x15/0x16 [sdm2] CPUID: TSC Hz = crystal Hz * EBX / EAX.

/// The raw values (CpuFeatures has them: max_basic_leaf,
/// tsc_ratio_denominator, tsc_ratio_numerator, crystal_hz, base_mhz).
struct CpuidTscLeaves {
  uint32_t max_basic_leaf;
  uint32_t denominator, numerator, crystal_hz;  // leaf 0x15 EAX, EBX, ECX
  uint32_t base_mhz;                            // leaf 0x16 EAX
};

struct CpuidTscClock {
  uint64_t tsc_hz;
  uint64_t crystal_hz;       // the LAPIC timer's input on such parts
  bool from_base_frequency;  // crystal not enumerated: assumed TSC = 0x16 base
};

/// The TSC rate CPUID states, if it is to be trusted: leaf 0x15 within the
/// maximum leaf with a nonzero ratio, and a crystal Hz, or else a leaf 0x16
/// base frequency (Intel client parts before Ice Lake leave the crystal out;
/// their TSC runs at the base frequency). kNotFound when CPUID does not say,
/// kOutOfRange when what it says is implausible.
constexpr base::Result<CpuidTscClock> tsc_from_cpuid(const CpuidTscLeaves& l) {
  // Above the maximum leaf, CPUs echo another leaf's data (QEMU: leaf 0xD).
  if (l.max_basic_leaf < 0x15 || l.denominator == 0 || l.numerator == 0) return base::Error::kNotFound;
  if (l.crystal_hz != 0) {
    uint64_t tsc = uint64_t{l.crystal_hz} * l.numerator / l.denominator;  // < 2^64: both factors < 2^32
    if (!plausible_tsc_hz(tsc)) return base::Error::kOutOfRange;
    return CpuidTscClock{tsc, l.crystal_hz, false};
  }
  if (l.max_basic_leaf < 0x16 || l.base_mhz == 0) return base::Error::kNotFound;
  uint64_t tsc = uint64_t{l.base_mhz} * 1'000'000;
  if (!plausible_tsc_hz(tsc)) return base::Error::kOutOfRange;
  return CpuidTscClock{tsc, tsc * l.denominator / l.numerator, true};
}

/// Both clock rates from CPUID alone, where it names the crystal (leaf 0x15
/// ECX): the TSC runs at crystal * ratio, and the LAPIC timer counts the
/// crystal through its divider ([sdm3] 10.5.4: "the processor's bus clock
/// or core crystal clock frequency (when TSC/core crystal clock ratio is
/// enumerated in CPUID leaf 0x15) divided by the value specified in the
/// divide configuration register"). kNotFound when the crystal is not
/// enumerated (a base frequency alone does not give the timer's input);
/// tsc_from_cpuid's errors otherwise.
constexpr base::Result<CpuidTscClock> crystal_clock_from_cpuid(const CpuidTscLeaves& l) {
  base::Result<CpuidTscClock> c = tsc_from_cpuid(l);
  if (!c.ok()) return c.error();
  if (c.value().from_base_frequency) return base::Error::kNotFound;
  return c.value();
}
// A Xeon Scalable: 25 MHz crystal, ratio 168/2: a 2.1 GHz TSC.
static_assert(crystal_clock_from_cpuid({0x16, 2, 168, 25'000'000, 2100}).value().tsc_hz == 2'100'000'000);
static_assert(crystal_clock_from_cpuid({0x16, 2, 168, 25'000'000, 2100}).value().crystal_hz == 25'000'000);
// Skylake client: ratio but no crystal (the base frequency is not the input).
static_assert(crystal_clock_from_cpuid({0x16, 2, 284, 0, 4000}).error() == base::Error::kNotFound);
static_assert(crystal_clock_from_cpuid({0xd, 0, 0, 0, 0}).error() == base::Error::kNotFound);

// ---------------------------------------------------------------------------
// Layout and logic: PIT channel 2 [8254 datasheet]; port 0x61 is the PC/AT
// "port B": bit 0 gates channel 2, bit 1 routes it to the speaker, bit 5
// reads channel 2's OUT.

inline constexpr uint64_t kPitHz = 1'193'182;
inline constexpr uint16_t kPitChannel2Port = 0x42, kPitCommandPort = 0x43, kPortB = 0x61;
inline constexpr uint8_t kPortBGate2 = 1 << 0, kPortBSpeaker = 1 << 1, kPortBOut2 = 1 << 5;
// Bits 3:2 of port B are the parity/channel-check NMI enables: preserved.
inline constexpr uint8_t kPortBKeep = 0b1100;
/// Command: channel 2 (10), low then high byte (11), mode 0 (000), binary.
inline constexpr uint8_t kPitCmdChannel2Mode0 = 0b10'11'000'0;
static_assert(kPitCmdChannel2Mode0 == 0xb0);

/// The default calibration window: long enough that polling port 0x61
/// (~1 us per access on hardware) costs ~100 ppm, short enough for boot.
inline constexpr uint32_t kCalibrationWindowUs = 10'000;

/// The channel-2 count for `us` microseconds, rounded to nearest.
/// kInvalidArgument for 0, kOutOfRange past 65535 counts (~54.9 ms).
constexpr base::Result<uint16_t> pit_count_for_us(uint32_t us) {
  if (us == 0) return base::Error::kInvalidArgument;
  uint64_t count = (uint64_t{us} * kPitHz + 500'000) / 1'000'000;
  if (count == 0 || count > 0xffff) return base::Error::kOutOfRange;
  return static_cast<uint16_t>(count);
}
static_assert(pit_count_for_us(kCalibrationWindowUs).value() == 11'932);

/// Channel 2 as a one-shot, on an I/O provider with out8/in8/relax
/// (PortIo in the kernel).
template <typename Io>
class PitChannel2 {
 public:
  explicit constexpr PitChannel2(Io io) : io_(io) {}

  /// arm() then fire().
  void start(uint16_t count) {
    arm(count);
    fire(count);
  }
  /// Gate on, speaker off, mode 0, low byte of `count`. (The 8254 drives
  /// OUT low at the mode command; QEMU's model only once the count is in.)
  void arm(uint16_t count) {
    io_.out8(kPortB, static_cast<uint8_t>((io_.in8(kPortB) & kPortBKeep) | kPortBGate2));
    io_.out8(kPitCommandPort, kPitCmdChannel2Mode0);
    io_.out8(kPitChannel2Port, static_cast<uint8_t>(count));
  }
  /// The high byte, which starts the count: OUT rises N+1 clock edges
  /// later, i.e. between N and N+1 periods, as the write is not
  /// clock-aligned [8254].
  void fire(uint16_t count) { io_.out8(kPitChannel2Port, static_cast<uint8_t>(count >> 8)); }

  /// OUT reached terminal count.
  bool expired() { return (io_.in8(kPortB) & kPortBOut2) != 0; }

  /// Polls until expired, at most `max_polls` times; kTimedOut otherwise.
  base::Status wait(uint32_t max_polls) {
    for (uint32_t i = 0; i < max_polls; ++i) {
      if (expired()) return base::Status::Ok();
      io_.relax();
    }
    return base::Error::kTimedOut;
  }

  /// Gate off (and speaker off).
  void stop() { io_.out8(kPortB, static_cast<uint8_t>(io_.in8(kPortB) & kPortBKeep)); }

 private:
  Io io_;
};

/// What one PIT window measured. The TSC times the window itself, between
/// the midpoints of two brackets: the TSC reads around the count's high-byte
/// write, and those around OUT's rise (from before the last poll that saw
/// it low to after the one that saw it high). The LAPIC timer is measured
/// against the TSC alone, over its own slightly wider interval.
struct PitWindow {
  uint16_t pit_count;
  uint64_t tsc_delta;        // TSC ticks, start midpoint to end midpoint
  uint64_t tsc_uncertainty;  // +- TSC ticks: half of each bracket, summed
  uint32_t lapic_delta;      // LAPIC timer counts (it counts down); 0 if not running
  uint64_t lapic_tsc_delta;  // TSC ticks over which lapic_delta was counted
};

/// A LAPIC timer reading and the TSC at that moment: the midpoint of TSC
/// reads on either side of it.
struct CounterSample {
  uint64_t tsc;
  uint32_t lapic;
};

/// Tries for the tightest TSC bracket around a LAPIC read.
inline constexpr int kSampleTries = 5;

/// The tightest of kSampleTries TSC/LAPIC/TSC brackets: an SMI, a host
/// preempting a vCPU or an emulated MMIO exit can stretch any one read by
/// tens of microseconds (seen under QEMU TCG), which unbracketed would be
/// thousands of ppm. Not inlined, so both ends of a window run the same
/// (warmed-up) instructions.
template <typename Counters>
[[gnu::noinline]] CounterSample sample_counters(Counters& counters) {
  CounterSample best{0, 0};
  uint64_t best_span = ~uint64_t{0};
  for (int i = 0; i < kSampleTries; ++i) {
    const uint64_t before = counters.tsc();
    const uint32_t lapic = counters.lapic_count();
    const uint64_t span = counters.tsc() - before;
    if (span < best_span) {
      best_span = span;
      best = CounterSample{before + span / 2, lapic};
    }
  }
  return best;
}

/// Bound on polls of port 0x61 if the TSC bound never triggers (a TSC that
/// does not tick): ~0.5-1 us each on hardware.
inline constexpr uint32_t kPitMaxPolls = 50'000'000;

/// Measures one window of `us` microseconds (1 ms to 54 ms). `Counters`
/// provides uint64_t tsc() and uint32_t lapic_count() (the LAPIC timer's
/// current count, free-running; return 0 to skip it). kUnsupported if OUT
/// reads high sooner than the window could pass even at the slowest
/// plausible TSC (no PIT: the bus floats to 0xff); kAgain if it already
/// reads high at the first poll after a longer delay (a stall; retry);
/// kTimedOut if it never rises within twice the window at the fastest
/// plausible TSC (channel 2 not counting) or within max_polls polls.
template <typename Io, typename Counters>
base::Result<PitWindow> measure_pit_window(PitChannel2<Io>& pit, Counters& counters, uint32_t us = kCalibrationWindowUs,
                                           uint32_t max_polls = kPitMaxPolls) {
  if (us < 1000) return base::Error::kInvalidArgument;
  base::Result<uint16_t> count = pit_count_for_us(us);
  if (!count.ok()) return count.error();
  // 2 * (N + 1) periods of TSC at 10 GHz: cannot overflow (< 2^31 * 2^34);
  // N periods at 100 MHz.
  const uint64_t max_cycles = 2 * (uint64_t{count.value()} + 1) * kMaxPlausibleTscHz / kPitHz;
  const uint64_t min_cycles = uint64_t{count.value()} * kMinPlausibleTscHz / kPitHz;

  (void)sample_counters(counters);  // warm-up: code, TLB, cache
  pit.arm(count.value());
  const uint64_t start_lo = counters.tsc();
  pit.fire(count.value());
  const uint64_t start_hi = counters.tsc();
  const CounterSample start = sample_counters(counters);

  // Invariant: prev was read before the last poll that saw OUT low.
  uint64_t prev = start_hi;
  for (uint32_t polls = 0;; ++polls) {
    const uint64_t now = counters.tsc();
    if (polls >= max_polls || now - start_hi > max_cycles) {
      pit.stop();
      return base::Error::kTimedOut;
    }
    if (pit.expired()) {
      if (polls > 0) break;
      // Judge by the time after this poll: the stall may be inside it.
      const bool too_soon = counters.tsc() - start_hi < min_cycles;
      pit.stop();
      return too_soon ? base::Error::kUnsupported : base::Error::kAgain;
    }
    prev = now;
  }
  const uint64_t end_hi = counters.tsc();
  const CounterSample end = sample_counters(counters);
  pit.stop();

  const uint64_t start_half = (start_hi - start_lo) / 2, end_half = (end_hi - prev) / 2;
  return PitWindow{count.value(), (prev + end_half) - (start_lo + start_half), start_half + end_half,
                   start.lapic - end.lapic, end.tsc - start.tsc};
}

/// Hz of a counter that advanced `delta` over a mode-0 window of
/// `pit_count`: the window is N + 1/2 PIT periods (see fire()), so
/// Hz = delta * 2 * kPitHz / (2N + 1).
constexpr base::Result<uint64_t> hz_over_pit_window(uint64_t delta, uint16_t pit_count) {
  if (pit_count == 0) return base::Error::kInvalidArgument;
  return mul_div(delta, 2 * kPitHz, 2 * uint64_t{pit_count} + 1);
}

/// A bound on the relative error of the window's TSC rate, in ppm (rounded
/// up). The true TSC span is D +- U and the true window N..N+1 periods, so
/// the worst rate is D / (D - U) * (N + 1) / (N + 1/2) times the measured:
/// U / (D - U) + D / ((D - U) * (2N + 1)). ~0 (unbounded) if U >= D.
constexpr uint64_t pit_window_error_ppm(const PitWindow& w) {
  constexpr uint64_t kUnbounded = ~uint64_t{0};
  if (w.pit_count == 0 || w.tsc_uncertainty >= w.tsc_delta) return kUnbounded;
  const uint64_t d_low = w.tsc_delta - w.tsc_uncertainty;
  base::Result<uint64_t> brackets = mul_div(w.tsc_uncertainty, 1'000'000, d_low);
  base::Result<uint64_t> phase = mul_div(w.tsc_delta, 1'000'000, d_low);
  if (!brackets.ok() || !phase.ok()) return kUnbounded;
  return brackets.value() + 1 + phase.value() / (2 * uint64_t{w.pit_count} + 1) + 1;
}

struct ClockRates {
  uint64_t tsc_hz;
  uint64_t lapic_timer_hz;  // counts/s at the divide it ran with; 0 if not measured
};

/// Both rates from one window; kOutOfRange if the TSC rate is implausible.
/// The LAPIC rate is its ratio to the TSC, which no PIT or poll error
/// enters (0 if it was not running or no interval was measured).
constexpr base::Result<ClockRates> clock_rates(const PitWindow& w) {
  base::Result<uint64_t> tsc = hz_over_pit_window(w.tsc_delta, w.pit_count);
  if (!tsc.ok()) return tsc.error();
  if (!plausible_tsc_hz(tsc.value())) return base::Error::kOutOfRange;
  // lapic_delta < 2^32 and tsc_hz < 2^34: the product cannot overflow.
  base::Result<uint64_t> lapic = mul_div(w.lapic_delta, tsc.value(), w.lapic_tsc_delta);
  return ClockRates{tsc.value(), lapic.value_or(0)};
}
// 23'865'000 TSC ticks over 11'932.5 PIT periods is 1000 * 2 * kPitHz Hz;
// a LAPIC timer counting a tenth as much runs at a tenth of that.
static_assert(clock_rates({11'932, 23'865'000, 0, 2'386'500, 23'865'000}).value().tsc_hz == 2'386'364'000);
static_assert(clock_rates({11'932, 23'865'000, 0, 2'386'500, 23'865'000}).value().lapic_timer_hz == 238'636'400);
static_assert(clock_rates({11'932, 23'865'000, 0, 0, 0}).value().lapic_timer_hz == 0);
// 2'387 ticks of brackets in 23'865'000: 100.03 ppm; the phase 41.9 ppm.
static_assert(pit_window_error_ppm({11'932, 23'865'000, 2'387, 0, 0}) == 101 + 42);

/// Calibration accepts a window once its error bound is this small. With
/// ~1 us port accesses (hardware; simulated, not yet measured) a window
/// bounds at ~150-200 ppm. Under QEMU 7.2 TCG the first window runs cold
/// (code being translated) at 400-15000 ppm and the next at ~60 (measured);
/// a host stall costs another window.
inline constexpr uint64_t kCalibrationTargetPpm = 250;
inline constexpr int kCalibrationMaxWindows = 4;

struct Calibration {
  ClockRates rates;
  uint64_t error_ppm;  // bound on the TSC rate's error (the LAPIC's follows it)
  int windows;         // windows measured
};

/// Measures windows until one's error bound is at most target_ppm, or
/// max_windows, and returns the rates of the best plausible one. Fails at
/// once if the first window finds no PIT or a stuck counter, and with
/// kAgain if no window was usable. A LAPIC timer being measured must not
/// run out meanwhile (0xffff'ffff counts: 4.3 s at 1 GHz).
template <typename Io, typename Counters>
base::Result<Calibration> calibrate_clocks(PitChannel2<Io>& pit, Counters& counters, uint32_t us = kCalibrationWindowUs,
                                           uint64_t target_ppm = kCalibrationTargetPpm,
                                           int max_windows = kCalibrationMaxWindows) {
  PitWindow best{};
  uint64_t best_ppm = ~uint64_t{0};
  int windows = 0;
  while (windows < max_windows && best_ppm > target_ppm) {
    base::Result<PitWindow> w = measure_pit_window(pit, counters, us);
    ++windows;
    if (!w.ok()) {
      // A missing PIT stays so. A window that timed out may have been a
      // vCPU held off by its host for longer than the poll bound, which
      // need not recur; a PIT that never counts times out every window.
      if (w.error() == base::Error::kUnsupported && windows == 1) return w.error();
      continue;
    }
    const uint64_t ppm = pit_window_error_ppm(w.value());
    if (ppm < best_ppm && clock_rates(w.value()).ok()) {
      best_ppm = ppm;
      best = w.value();
    }
  }
  if (best_ppm == ~uint64_t{0}) return base::Error::kAgain;
  return Calibration{clock_rates(best).value(), best_ppm, windows};
}

}  // namespace arch

namespace arch {

// ---------------------------------------------------------------------------
// Channel 0 as a periodic tick: the fallback timer when a CPU has no usable
// LAPIC timer. Mode 2 (rate generator) raises IRQ 0 every `divisor` input
// clocks [8254] mode 2.

inline constexpr uint16_t kPitChannel0Port = 0x40;
inline constexpr uint8_t kPitCmdChannel0Mode2 = 0b00'11'010'0;  // channel 0, lo/hi byte, mode 2, binary
static_assert(kPitCmdChannel0Mode2 == 0x34);

/// The divisor for `hz` interrupts a second, rounded to nearest;
/// kOutOfRange when it does not fit the 16-bit counter (hz < 19 or too high).
constexpr base::Result<uint16_t> pit_periodic_divisor(uint32_t hz) {
  if (hz == 0) return base::Error::kInvalidArgument;
  uint64_t d = (kPitHz + hz / 2) / hz;
  if (d < 2 || d > 0xffff) return base::Error::kOutOfRange;
  return static_cast<uint16_t>(d);
}
static_assert(pit_periodic_divisor(1000).value() == 1193);

/// Programs channel 0 to interrupt `hz` times a second. Boot, interrupts off.
template <typename Io>
base::Status pit_start_periodic(Io io, uint32_t hz) {
  base::Result<uint16_t> d = pit_periodic_divisor(hz);
  if (!d.ok()) return d.error();
  io.out8(kPitCommandPort, kPitCmdChannel0Mode2);
  io.out8(kPitChannel0Port, static_cast<uint8_t>(d.value()));
  io.out8(kPitChannel0Port, static_cast<uint8_t>(d.value() >> 8));
  return base::Status::Ok();
}

}  // namespace arch
