// The periodic NMI that works without a PMU (issue 13, item 3): the 8254
// PIT's channel 0 at the chosen rate, routed through the IOAPIC with NMI
// delivery ([ioapic] 3.2.4) to the boot CPU, whose NMI handler passes each
// tick on to every other online CPU by NMI IPI. An NMI reaches a CPU
// whatever its interrupt flag, so code that runs with interrupts off shows
// up in profiles and a CPU stuck that way is seen by the watchdog. The
// boot CPU is the one CPU that never goes offline (sched/cpu_offline.cc).
//
// Unavailable when the PIT ticks the scheduler (timer=pit) or no IOAPIC
// serves ISA IRQ 0. Kernel only.
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"

namespace prof {

/// The PIT's rates: 19 Hz is the slowest its 16-bit divisor allows.
inline constexpr uint32_t kPeriodicMinHz = 20;
inline constexpr uint32_t kPeriodicMaxHz = 10'000;

/// Why there can be no periodic NMI here, or null when there can.
const char* periodic_nmi_unavailable();

/// Starts (or re-rates) the periodic NMI at `hz` (kPeriodicMinHz ..
/// kPeriodicMaxHz); kUnsupported when unavailable. Thread context, one
/// caller at a time (prof's lock).
base::Status periodic_nmi_start(uint32_t hz);

/// Stops it (masks the PIT's pin). Thread context, prof's lock.
void periodic_nmi_stop();

/// Whether it runs, and at what period (the PIT's divisor rounds the rate).
bool periodic_nmi_running();
uint64_t periodic_nmi_period_ns();

/// Programs the PIT for `hz` without routing it (the timer path routes it
/// as a maskable interrupt); the period in ns, or the error.
base::Result<uint64_t> pit_set_rate(uint32_t hz);

/// The boot CPU's NMI handler: pass the tick on to every other online CPU
/// (with `include_idle` false, only to those not halted in their idle
/// loop), never to one taken offline (sched/cpu_offline.h), whose
/// watchdog is told to start afresh. NMI context.
void periodic_nmi_fan_out(bool include_idle);

}  // namespace prof
