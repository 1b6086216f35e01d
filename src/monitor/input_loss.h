// The prompt's warning about lost serial input: the console never drops a
// byte for want of room (it pauses the UART), but the UART itself can
// overrun. Said once per new loss, before the next prompt, so a person or
// script knows a line may be incomplete. Pure logic; thread context, one
// thread (the monitor's).
#pragma once

#include "src/base/format.h"
#include "src/base/types.h"

namespace monitor {

class InputLossReport {
 public:
  /// Given the UART's overrun count so far, writes a warning to `out` if it
  /// grew since the last call; whether it did.
  bool report(uint64_t overruns, base::Sink out) {
    if (overruns <= reported_) return false;
    const uint64_t fresh = overruns - reported_;
    reported_ = overruns;
    base::format(out, "warning: serial input lost: {} UART overrun{} (each drops one byte or more)\n", fresh,
                 fresh == 1 ? "" : "s");
    return true;
  }

 private:
  uint64_t reported_ = 0;
};

}  // namespace monitor
