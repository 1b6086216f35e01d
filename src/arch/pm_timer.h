// The ACPI power-management timer as a second clock for calibration
// ([acpi] 4.8.3.3): a free-running counter at 3.579545 MHz, read from one
// I/O port, 24 or 32 bits wide. The TSC rate measured against the PIT is
// checked against it: the two counters share no code path, so a window
// the PIT measurement got wrong (a stalled vCPU or an SMI inside it, a
// PIT that counts at the wrong rate) shows as a disagreement beyond both
// error bounds.
//
// Contexts: PmTimerReader is boot-time, one CPU, interrupts off. The
// arithmetic is pure: any context.
#pragma once

#include "src/arch/pit.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace arch {

/// [acpi] 4.8.3.3: "a 24-bit or 32-bit fixed rate free running count-up
/// timer that runs off a 3.579545 MHz clock".
inline constexpr uint64_t kPmTimerHz = 3'579'545;

/// Ticks from `before` to `after` on a counter that wrapped at most once
/// (24 bits wrap every 4.7 s, 32 bits every 20 minutes).
constexpr uint32_t pm_timer_ticks(uint32_t before, uint32_t after, bool width_32) {
  const uint32_t mask = width_32 ? 0xffff'ffffu : 0x00ff'ffffu;
  return (after - before) & mask;
}
static_assert(pm_timer_ticks(0x00ff'fff0, 0x0000'0010, false) == 0x20);
static_assert(pm_timer_ticks(0xffff'fff0, 0x0000'0010, true) == 0x20);
static_assert(pm_timer_ticks(5, 5, false) == 0);

/// Two PM-timer readings, each bracketed by TSC reads: the TSC cycles
/// between the brackets' midpoints, how far that can be off (half of each
/// bracket's width), and the timer ticks between the readings.
struct PmTimerSpan {
  uint64_t tsc_delta;
  uint64_t tsc_uncertainty;
  uint32_t ticks;
};

/// What the PM timer says of the PIT's TSC rate.
struct ClockCrossCheck {
  uint64_t tsc_hz;     // the TSC rate over the PM-timer span
  uint64_t apart_ppm;  // |that - the PIT's|, relative to the PIT's
  uint64_t bound_ppm;  // how far apart both error bounds allow them to be
  bool agree;          // apart_ppm <= bound_ppm
};

/// Slack on top of the two measurement bounds: the PIT and the PM timer
/// are usually derived from the same 14.318 MHz crystal, but nothing
/// requires it, and a PC's crystal is specified to +-100 ppm (each side).
inline constexpr uint64_t kCrossCheckSlackPpm = 200;

/// Checks `pit_tsc_hz` (error bound `pit_error_ppm`) against `span`.
/// The span's own bound is one tick of quantization plus its brackets.
/// kInvalidArgument when the span has no ticks or is all uncertainty,
/// kOutOfRange when the rate it implies is implausible.
constexpr base::Result<ClockCrossCheck> cross_check_tsc_hz(uint64_t pit_tsc_hz, uint64_t pit_error_ppm,
                                                           const PmTimerSpan& span) {
  if (span.ticks == 0 || pit_tsc_hz == 0 || span.tsc_uncertainty >= span.tsc_delta)
    return base::Error::kInvalidArgument;
  base::Result<uint64_t> hz = mul_div(span.tsc_delta, kPmTimerHz, span.ticks);
  if (!hz.ok()) return hz.error();
  if (!plausible_tsc_hz(hz.value())) return base::Error::kOutOfRange;
  const uint64_t diff = hz.value() > pit_tsc_hz ? hz.value() - pit_tsc_hz : pit_tsc_hz - hz.value();
  base::Result<uint64_t> apart = mul_div(diff, 1'000'000, pit_tsc_hz);
  base::Result<uint64_t> brackets = mul_div(span.tsc_uncertainty, 1'000'000, span.tsc_delta - span.tsc_uncertainty);
  if (!apart.ok() || !brackets.ok()) return base::Error::kOutOfRange;
  const uint64_t quantization = (1'000'000 + span.ticks - 1) / span.ticks;
  const uint64_t bound = pit_error_ppm + quantization + brackets.value() + 1 + kCrossCheckSlackPpm;
  return ClockCrossCheck{hz.value(), apart.value(), bound, apart.value() <= bound};
}

/// Reads the timer at `port` with a TSC bracket. Io provides in32(port);
/// Tsc provides tsc().
template <typename Io, typename Tsc>
class PmTimerReader {
 public:
  struct Reading {
    uint64_t tsc_mid;
    uint64_t tsc_half_width;
    uint32_t count;
  };

  PmTimerReader(Io io, Tsc& tsc, uint16_t port) : io_(io), tsc_(tsc), port_(port) {}

  Reading read() {
    const uint64_t t0 = tsc_.tsc();
    const uint32_t count = io_.in32(port_);
    const uint64_t t1 = tsc_.tsc();
    return {t0 + (t1 - t0) / 2, (t1 - t0 + 1) / 2, count};
  }

  /// The span between two readings.
  static PmTimerSpan span(const Reading& a, const Reading& b, bool width_32) {
    return {b.tsc_mid - a.tsc_mid, a.tsc_half_width + b.tsc_half_width, pm_timer_ticks(a.count, b.count, width_32)};
  }

 private:
  Io io_;
  Tsc& tsc_;
  uint16_t port_;
};

}  // namespace arch
