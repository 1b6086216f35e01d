// One AP's bring-up slot, shared by the boot CPU and that AP. The boot CPU
// waits a bounded time for each AP and then gives up on it; a slow AP may
// arrive at any moment, including just as it is given up on. Whoever moves
// the slot out of kWaiting first decides: the AP by claiming it (it is then
// committed to coming online: it registers with the TLB shootdown set and
// the heap, so the boot CPU must wait for it) or the boot CPU by abandoning
// it (the AP then parks having touched nothing shared). Any context; the
// slot is a single atomic word.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"

namespace arch {

class ApSlot {
 public:
  enum State : uint32_t {
    kWaiting = 0,    // started (INIT-SIPI-SIPI) or about to be, not yet arrived
    kStarting = 1,   // the AP claimed it and is setting itself up
    kOnline = 2,     // set up, scheduling
    kAbandoned = 3,  // the boot CPU gave up first; the AP must park
  };

  /// The AP, on arrival: true if it may go on (the slot was waiting),
  /// false if it was abandoned and must park without touching shared state.
  bool claim() { return move(kWaiting, kStarting); }

  /// The boot CPU, once its wait is over: true if the AP had not claimed the
  /// slot (it never will now), false if it has and must be waited for.
  bool abandon() { return move(kWaiting, kAbandoned); }

  /// The AP, once set up after a successful claim(); false (a broken
  /// invariant for the caller to report) if the slot was not kStarting.
  /// Release: the AP's set-up is visible to whoever sees it online.
  bool set_online() { return move(kStarting, kOnline); }

  State state() const { return static_cast<State>(state_.load(base::MemoryOrder::kAcquire)); }

 private:
  bool move(State from, State to) {
    uint32_t expected = from;
    return state_.compare_exchange(expected, to, base::MemoryOrder::kAcqRel, base::MemoryOrder::kAcquire);
  }

  base::Atomic<uint32_t> state_{kWaiting};
};

}  // namespace arch
