// wait_until: how an in-kernel test waits for another thread or CPU — on
// state it can observe (a flag, a counter, a thread's state), never for a
// guessed time, which a loaded host stretches past any guess. The bound
// only turns a hang into a failure, so it is generous. Thread context.
#pragma once

#include "src/arch/clock.h"
#include "src/sched/thread.h"

namespace ktest {

/// The default bound: far beyond any wait that passes, even on a loaded
/// 2-core host without -icount, and well inside a boot test's timeout.
inline constexpr uint64_t kWaitBoundNs = 2'000'000'000;

/// Polls `cond` every `poll_ns`, sleeping between looks (so the threads it
/// waits for may run on this CPU), until it holds or `bound_ns` have
/// passed. Returns whether it held.
template <typename Cond>
bool wait_until(Cond&& cond, uint64_t bound_ns = kWaitBoundNs, uint64_t poll_ns = 100'000) {
  const uint64_t deadline = arch::nanotime() + bound_ns;
  while (!cond()) {
    if (arch::nanotime() >= deadline) return cond();
    sched::sleep_for(poll_ns);
  }
  return true;
}

}  // namespace ktest
