// Clock calibration (see clock.h): CPUID's crystal when it names one, else
// short PIT windows (and CPUID's base frequency for the TSC if it has one).
#include "src/arch/clock.h"

#include "src/arch/local_apic.h"
#include "src/base/assert.h"

namespace arch {
namespace {

constinit ClockInfo clock{};

struct CalibrationCounters {
  uint64_t tsc() { return rdtsc(); }
  uint32_t lapic_count() {
    return with_lapic([](auto& l) { return l.timer_current_count(); });
  }
};

// The TSC and the LAPIC timer measured over PIT channel-2 windows of 2 ms:
// a window's own bound is then about 210 ppm (half a PIT period in 2,386)
// plus the polling brackets, ~10 ppm under TCG and ~700 with the ~1 us
// port accesses of hardware, so 1000 ppm (1 ms a second) accepts the
// first warm window on either.
// Under TCG the first runs cold (code being translated), and on a loaded
// host a window can stall: up to six, though one or two is the rule (2 to
// 4 ms, where the 9 ms windows this replaced cost 9 to 18 ms).
void measure_against_pit() {
  with_lapic([](auto& l) {
    l.start_timer_free_running(kTimerDivide);
    return 0;
  });
  PitChannel2<PortIo> pit(PortIo{});
  CalibrationCounters counters;
  constexpr uint32_t kWindowUs = 2'000;
  constexpr uint64_t kTargetPpm = 1000;
  constexpr int kMaxWindows = 6;
  auto cal = calibrate_clocks(pit, counters, kWindowUs, kTargetPpm, kMaxWindows);
  if (!cal.ok()) PANIC("clock calibration against the PIT failed: {}", base::error_name(cal.error()));
  clock.tsc_hz = cal.value().rates.tsc_hz;
  clock.lapic_timer_hz = cal.value().rates.lapic_timer_hz;
  clock.error_ppm = cal.value().error_ppm;
  clock.windows += cal.value().windows;
  ++clock.measurements;
  with_lapic([](auto& l) {
    l.stop_timer();
    return 0;
  });
}

// The PIT measurement with the PM timer read before and after it: the
// span covers every window (2 ms or more: about 140 ppm of quantization).
// One disagreement measures again, since a stall can hit one calibration
// and not the next; a second keeps the PIT's figure and the boot report
// says so with both rates (nothing decides which clock is wrong).
void measure_against_pit_checked(const acpi::PmTimerBlock& pm) {
  clock.pm_timer = pm;
  CalibrationCounters tsc;
  PmTimerReader<PortIo, CalibrationCounters> reader(PortIo{}, tsc, pm.port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto before = reader.read();
    measure_against_pit();
    auto after = reader.read();
    auto check = cross_check_tsc_hz(clock.tsc_hz, clock.error_ppm, reader.span(before, after, pm.width_32));
    if (!check.ok()) {
      clock.check = ClockInfo::Check::kUnusable;
      clock.unusable = check.error();
      return;
    }
    clock.cross_check = check.value();
    clock.check = check.value().agree ? ClockInfo::Check::kAgreed : ClockInfo::Check::kDisagreed;
    if (check.value().agree) return;
  }
}

}  // namespace

void clock_calibrate(const CpuFeatures& features, const acpi::PmTimerBlock* pm_timer) {
  internal::tsc_at_boot = rdtsc();
  uint64_t t0 = rdtsc();
  CpuidTscLeaves leaves{features.max_basic_leaf, features.tsc_ratio_denominator, features.tsc_ratio_numerator,
                        features.crystal_hz, features.base_mhz};
  auto crystal = crystal_clock_from_cpuid(leaves);
  if (crystal.ok()) {
    // CPUID names both rates: nothing to measure.
    clock.tsc_hz = crystal.value().tsc_hz;
    clock.lapic_timer_hz = crystal.value().crystal_hz / timer_divisor(kTimerDivide);
    clock.tsc_from_cpuid = true;
  } else {
    if (pm_timer != nullptr) {
      measure_against_pit_checked(*pm_timer);
    } else {
      clock.check = ClockInfo::Check::kNoTimer;
      measure_against_pit();
    }
    // A base frequency alone still states the TSC rate better than a short
    // window measures it; the LAPIC timer's rate stays the measured one.
    auto from_cpuid = tsc_from_cpuid(leaves);
    if (from_cpuid.ok() && plausible_tsc_hz(from_cpuid.value().tsc_hz)) {
      clock.tsc_hz = from_cpuid.value().tsc_hz;
      clock.tsc_from_cpuid = true;
    }
  }
  clock.calibration_tsc_cycles = rdtsc() - t0;
  auto scale = tsc_to_ns_scale(clock.tsc_hz);
  ASSERT_MSG(scale.ok(), "TSC rate {} Hz out of range", clock.tsc_hz);
  internal::ns_per_tsc = scale.value();
  internal::tsc_hz = clock.tsc_hz;
}

const ClockInfo& clock_info() { return clock; }

void delay_us(uint64_t us) {
  uint64_t end = nanotime() + us * 1000;
  while (nanotime() < end) cpu_relax();
}

}  // namespace arch
