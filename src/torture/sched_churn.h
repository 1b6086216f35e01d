// The scheduler's part of the combined torture (what sched_torture ran on
// its own before): spawn/exit/join/detach, yields, futex ping-pong, sleeps
// and futex timeouts, cross-CPU semaphore wakes, random affinity changes,
// and, on 2+ CPUs, CPUs taken offline and back. Its invariants:
//  - every worker makes progress in every window (one second under exact
//    timing, five on host time, where a vCPU can lose the host CPU);
//  - no wakeup is lost (a ping-pong pair whose wake was lost stops, which
//    the progress check sees; its waits have no timeout to mask it);
//  - a sleep or a timed wait never returns before its time;
//  - a thread pinned to a CPU runs there; set_affinity refuses only CPUs
//    that are (going) offline;
//  - an offline CPU keeps nothing queued and no thread bound to it;
//  - every join returns (stop() joins everything);
//  - no thread runs on two CPUs (switch_to's claim of Thread::on_cpu panics);
//  - the idle invariant: no thread waits four quanta while a CPU nobody
//    woke stays halted (checked by the scheduler at every busy tick).
// Kernel only, thread context.
#pragma once
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"

namespace torture {

class SchedChurn {
 public:
  static constexpr int kWorkers = 12;

  /// Spawns the workers, and the hotplug thread when `hotplug` (2+ CPUs).
  /// `window_s`: seconds a worker may go without progress.
  base::Status start(bool hotplug, uint32_t window_s);
  /// Once a second while the load runs: the progress and idle invariants.
  /// Null, or the first broken invariant (also counted in failures()).
  const char* check_second();
  /// Stops the workers and joins every thread it spawned.
  void stop();

  uint64_t operations() const;
  uint64_t short_lived() const { return short_lived_.load(base::MemoryOrder::kRelaxed); }
  uint64_t hotplug_cycles() const { return cycles_.load(base::MemoryOrder::kRelaxed); }
  uint32_t failures() const { return failures_.load(base::MemoryOrder::kRelaxed); }
  const char* first_failure() const { return first_failure_; }
  /// Threads it runs besides the short-lived ones (workers and hotplug).
  uint32_t threads() const { return kWorkers + (hotplug_ ? 1 : 0); }
  /// Detached short-lived threads it may have in flight at once.
  static constexpr uint32_t kMaxDetached = 8;

  // The workers' side (sched_churn.cc).
  struct Worker {
    SchedChurn* t = nullptr;
    int id = 0;
    uint64_t rng = 0;
    base::Atomic<uint64_t> progress{0};
    sched::Thread* thread = nullptr;
    uint64_t seen = 0;     // progress at the last check
    uint32_t stalled = 0;  // checks in a row without progress
  };
  void fail(const char* what);
  bool stopping() const { return stop_.load(base::MemoryOrder::kRelaxed) != 0; }

  uint32_t ping_words[2] = {0, 0};  // one per ping-pong pair
  uint32_t never_woken = 0;
  sched::Semaphore handoff{0};
  base::Atomic<uint64_t> short_lived_{0};
  base::Atomic<uint32_t> detached_{0};  // detached short-lived threads not yet done
  base::Atomic<uint64_t> cycles_{0};
  uint32_t ncpu = 1;
  bool hotplug_ = false;
  uint64_t hotplug_rng = 0x2545'f491'4f6c'dd1dull;

 private:
  Worker workers_[kWorkers];
  sched::Thread* plugger_ = nullptr;
  base::Atomic<uint32_t> stop_{0};
  base::Atomic<uint32_t> failures_{0};
  const char* first_failure_ = nullptr;
  uint64_t idle_violations_before_ = 0;
  uint32_t window_s_ = 1;
  uint32_t second_ = 0;
};

}  // namespace torture
