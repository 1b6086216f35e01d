// The per-CPU timer interrupt: each CPU's LAPIC timer (periodic until the
// scheduler arms it one-shot), or — when the LAPIC timer is unusable or
// `timer=pit` asks for it — the 8254's channel 0 on the boot CPU alone.
// Kernel only.
#pragma once

#include "src/base/types.h"

namespace arch {

/// Timer interrupt rate per CPU while periodic.
inline constexpr uint32_t kTimerHz = 1000;

/// Where the timer interrupt comes from.
enum class TimerSource { kLapic, kPit };

namespace internal {
inline constinit TimerSource timer_source = TimerSource::kLapic;
}  // namespace internal

/// Chooses the source (the PIT if `force_pit` or the calibrated LAPIC
/// timer rate cannot give kTimerHz) and starts the boot CPU's LAPIC timer.
/// Boot CPU, after clock_calibrate, interrupts off.
void cpu_timer_init(bool force_pit);

/// Which source ticks. Any context.
inline TimerSource timer_source() { return internal::timer_source; }

/// True when every CPU has a one-shot timer (the LAPIC's); false with the
/// PIT, which ticks the boot CPU periodically. Any context.
inline bool cpu_timer_has_one_shot() { return internal::timer_source == TimerSource::kLapic; }

/// Starts this CPU's periodic LAPIC timer (nothing with the PIT). Every
/// CPU, interrupts off.
void cpu_timer_start_this_cpu();

/// Arms this CPU's one-shot timer to interrupt in `ns` nanoseconds, or
/// stops it for ns == UINT64_MAX. Only if cpu_timer_has_one_shot().
/// Interrupts off.
void cpu_timer_arm_ns(uint64_t ns);

/// For TimerSource::kPit (else nothing): routes ISA IRQ 0 to the boot CPU
/// at kVectorPitTimer and programs channel 0 at kTimerHz. Panics when there
/// is no route: no timer at all. Boot CPU, after irq_routing_init.
void cpu_timer_start_pit_tick();

}  // namespace arch
