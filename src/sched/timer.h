// Per-CPU timers for sleeps and futex timeouts, over TimerQueue, on the
// clock arch::nanotime() (src/arch/clock.h). A timer is armed on the queue
// of the CPU that arms it (the boot CPU's when only the PIT ticks); its
// callback runs in that
// CPU's timer interrupt, interrupts off, under the queue's lock — so it
// must be short and must not arm or cancel timers itself — and so a
// cancel that returns false knows the callback has already completed.
#pragma once

#include "src/base/types.h"
#include "src/sched/timer_queue.h"

namespace sched {

inline constexpr uint64_t kNoTimeout = ~uint64_t{0};

/// Arms idle timer `t` (its callback set) to fire at `deadline_ns`. Any
/// context but NMI.
void timer_arm(Timer& t, uint64_t deadline_ns);

/// Disarms `t`: true if it was pending (the callback will not run); false
/// if it already fired (the callback has finished) or was never armed.
/// Any context but NMI and the timer's own callback.
bool timer_cancel(Timer& t);

}  // namespace sched
