// Time: the TSC and LAPIC-timer rates measured at boot (against the PIT,
// or CPUID 0x15/0x16 when trustworthy), and the one clock everything reads,
// nanotime(). Kernel only.
#pragma once

#include "src/arch/acpi.h"
#include "src/arch/cpu_features.h"
#include "src/arch/pit.h"
#include "src/arch/pm_timer.h"
#include "src/arch/x86.h"
#include "src/base/types.h"

namespace arch {

/// How time was measured at boot.
struct ClockInfo {
  uint64_t tsc_hz = 0;
  uint64_t lapic_timer_hz = 0;  // after the divider
  bool tsc_from_cpuid = false;
  uint64_t calibration_tsc_cycles = 0;  // what calibrating cost
  uint64_t error_ppm = 0;               // bound on the TSC rate's error
  int windows = 0;                      // PIT windows measured
  // The check against the ACPI PM timer (pm_timer.h), when the rates were
  // measured against the PIT and the FADT names a timer.
  enum class Check { kNotNeeded, kNoTimer, kUnusable, kAgreed, kDisagreed } check = Check::kNotNeeded;
  ClockCrossCheck cross_check{};               // kAgreed or kDisagreed
  base::Error unusable = base::Error::kAgain;  // kUnusable: why
  acpi::PmTimerBlock pm_timer{};               // port 0: none given
  int measurements = 0;                        // PIT calibrations run (a disagreement measures again)
};

namespace internal {
inline constinit ClockScale ns_per_tsc{};
inline constinit uint64_t tsc_at_boot = 0;
inline constinit uint64_t tsc_hz = 0;
}  // namespace internal

/// Measures the TSC and LAPIC-timer rates (the LAPIC enabled, its timer
/// free to use), checking a PIT measurement against `pm_timer` (null when
/// the FADT names none). Boot CPU, interrupts off, once.
void clock_calibrate(const CpuFeatures& features, const acpi::PmTimerBlock* pm_timer);

/// What clock_calibrate found.
const ClockInfo& clock_info();

/// Nanoseconds since boot, from the calibrated TSC. Any context.
inline uint64_t nanotime() { return internal::ns_per_tsc.apply(rdtsc() - internal::tsc_at_boot); }

/// A TSC interval in nanoseconds. Any context.
inline uint64_t tsc_to_ns(uint64_t cycles) { return internal::ns_per_tsc.apply(cycles); }

/// TSC cycles per second: the rate nanotime() counts at. Any context.
inline uint64_t tsc_hz() { return internal::tsc_hz; }

/// Busy-waits at least `us` microseconds (pausing). Any context.
void delay_us(uint64_t us);

}  // namespace arch
