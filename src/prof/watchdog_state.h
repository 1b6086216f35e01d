// The lockup watchdog's decision for one CPU, made in that CPU's NMI
// handler at every periodic NMI it gets (issue 13, item 8): the CPU is
// making progress when its timer tick advanced since the last look, when
// it idled since (an idle CPU halts tickless, interrupts on, and is not
// stuck; it gets no watchdog NMIs meanwhile), or when the NMI found
// interrupts enabled. A CPU that shows neither for `limit` TSC cycles is
// stuck: reported once, then again only after it recovered.
//
// Pure and allocation-free: any context, NMI included.
#pragma once

#include "src/base/types.h"

namespace prof {

struct WatchdogState {
  bool primed = false;        // a first look has been taken
  bool reported = false;      // stuck, and said so
  uint64_t ticks_seen = 0;    // the timer tick count at the last progress
  uint64_t idle_seen = 0;     // the idle mark (sched's idle TSC) then
  uint64_t progress_tsc = 0;  // when progress was last seen
};

enum class WatchdogVerdict {
  kFine,        // progress, or not stuck for long enough yet
  kStuck,       // stuck for at least the limit: report now
  kStillStuck,  // stuck and already reported
  kRecovered,   // progress again after a report
};

/// One look: `ticks` is the CPU's timer tick count, `idle` a mark that
/// changes whenever it idles, `interrupts_on` the interrupted context's IF,
/// `now` the TSC, `limit` the stuck time in TSC cycles (> 0). The stuck
/// time so far is now - state.progress_tsc.
constexpr WatchdogVerdict watchdog_step(WatchdogState& s, uint64_t ticks, uint64_t idle, bool interrupts_on,
                                        uint64_t now, uint64_t limit) {
  if (!s.primed || ticks != s.ticks_seen || idle != s.idle_seen || interrupts_on) {
    const bool was_reported = s.primed && s.reported;
    s = WatchdogState{true, false, ticks, idle, now};
    return was_reported ? WatchdogVerdict::kRecovered : WatchdogVerdict::kFine;
  }
  if (now - s.progress_tsc < limit) return WatchdogVerdict::kFine;
  if (s.reported) return WatchdogVerdict::kStillStuck;
  s.reported = true;
  return WatchdogVerdict::kStuck;
}

}  // namespace prof
