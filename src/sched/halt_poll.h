// How long an idle CPU polls for a hand-off before it halts: the adaptive
// window of Linux's guest halt-polling (drivers/cpuidle/cpuidle-haltpoll.c,
// its defaults: at most 200 us, a first grow to 50 us, grow and shrink by
// 2). Polling lets a waker on another CPU hand a thread over with a store
// the poller sees, instead of an IPI and a wake-up from HLT; halting at
// once saves the power and, under -icount, the other CPUs' guest time a
// poll costs.
//
// The rule, per CPU, on each idle period that ended with work to run
// (`waited`: from the start of the idle period to the work, in TSC):
//  - found within the window: the window was right; keep it;
//  - found after the window but within the maximum: polling longer would
//    have caught it; grow (double, at least `grow_start`);
//  - found only after the maximum: polling was wasted; shrink (halve,
//    and to 0 below `grow_start`), so a CPU that is idle for long stops
//    polling altogether.
// Idle periods that end without work (an interrupt such as a shootdown or
// the watchdog's NMI) do not count: the window is for hand-offs.
// Pure arithmetic, host-tested; the scheduler keeps one per CPU.
#pragma once

#include "src/base/assert.h"
#include "src/base/types.h"

namespace sched {

class HaltPoll {
 public:
  constexpr HaltPoll() = default;

  /// Both in TSC cycles; 0 < grow_start <= max.
  void configure(uint64_t max, uint64_t grow_start) {
    ASSERT_MSG(grow_start != 0 && grow_start <= max, "halt_poll: grow start {} must be in (0, max {}]", grow_start,
               max);
    max_ = max;
    grow_start_ = grow_start;
    window_ = 0;
  }

  /// How long to poll now before halting (0: halt at once).
  uint64_t window() const { return window_; }

  /// An idle period ended with work, `waited` TSC cycles after it began.
  void on_work(uint64_t waited) {
    if (waited <= window_) return;
    if (waited <= max_) {
      uint64_t w = window_ < grow_start_ ? grow_start_ : window_ * 2;
      window_ = w > max_ ? max_ : w;
    } else {
      window_ /= 2;
      if (window_ < grow_start_) window_ = 0;
    }
  }

 private:
  uint64_t max_ = 0;
  uint64_t grow_start_ = 0;
  uint64_t window_ = 0;
};

}  // namespace sched
