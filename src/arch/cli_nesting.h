// Interrupt-disable nesting (xv6's pushcli/popcli): push_cli disables
// interrupts and counts; pop_cli re-enables them only when the outermost
// push found them enabled. Misuse — a pop without a push, or interrupts
// found enabled inside a pushed region — is a broken invariant and panics.
// Templated on the interrupt-flag provider so host tests can drive it.
// Any context except NMI (an NMI can land inside push_cli's bookkeeping).
#pragma once

#include "src/base/assert.h"
#include "src/base/types.h"

namespace arch {

/// Per-CPU state of the nesting (lives in PerCpu).
struct CliState {
  uint32_t depth = 0;
  bool outer_if = false;  // interrupts were enabled at the outermost push
};

/// Records one push; `was_enabled` is the flag read before disabling.
inline void note_push(CliState& s, bool was_enabled) {
  if (s.depth == 0) s.outer_if = was_enabled;
  ++s.depth;
}

/// Irq provides: bool enabled(); void disable(); void enable().
template <typename Irq>
void push_cli(Irq& irq, CliState& s) {
  bool was = irq.enabled();
  irq.disable();
  note_push(s, was);
}

template <typename Irq>
void pop_cli(Irq& irq, CliState& s) {
  ASSERT_MSG(!irq.enabled(), "pop_cli: interrupts enabled inside a push_cli region (depth {})", s.depth);
  ASSERT_MSG(s.depth > 0, "pop_cli without a matching push_cli");
  if (--s.depth == 0 && s.outer_if) irq.enable();
}

}  // namespace arch
