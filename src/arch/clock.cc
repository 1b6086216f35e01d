// Clock calibration (see clock.h): two PIT windows at most, then CPUID's
// TSC rate if it is plausible.
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

}  // namespace

void clock_calibrate(const CpuFeatures& features) {
  internal::tsc_at_boot = rdtsc();
  uint64_t t0 = rdtsc();
  with_lapic([](auto& l) {
    l.start_timer_free_running(kTimerDivide);
    return 0;
  });
  PitChannel2<PortIo> pit(PortIo{});
  CalibrationCounters counters;
  // Two 10 ms windows at most: the 20 ms budget. Under TCG the
  // first runs cold (code being translated); the second is accurate.
  constexpr int kMaxWindows = 2;
  constexpr uint32_t kWindowUs = 9'000;  // two windows plus overhead stay under 20 ms
  auto cal = calibrate_clocks(pit, counters, kWindowUs, kCalibrationTargetPpm, kMaxWindows);
  if (!cal.ok()) PANIC("clock calibration against the PIT failed: {}", base::error_name(cal.error()));
  clock.tsc_hz = cal.value().rates.tsc_hz;
  clock.lapic_timer_hz = cal.value().rates.lapic_timer_hz;
  clock.error_ppm = cal.value().error_ppm;
  clock.windows = cal.value().windows;
  CpuidTscLeaves leaves{features.max_basic_leaf, features.tsc_ratio_denominator, features.tsc_ratio_numerator,
                        features.crystal_hz, features.base_mhz};
  auto from_cpuid = tsc_from_cpuid(leaves);
  if (from_cpuid.ok() && plausible_tsc_hz(from_cpuid.value().tsc_hz)) {
    clock.tsc_hz = from_cpuid.value().tsc_hz;
    clock.tsc_from_cpuid = true;
  }
  with_lapic([](auto& l) {
    l.stop_timer();
    return 0;
  });
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
