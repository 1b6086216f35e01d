// What the memory churn (mm_churn.h) and the reservation squeeze
// (rt_squeeze.h) share: a fixed set of worker threads that pass the
// torture's Gate before each operation, the stop flag, the failure count
// with the first failure, and what each worker is doing now, so that a gate
// that does not close can name who is missing and where it waits. Kernel
// only, thread context.
#pragma once
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/sched/thread.h"
#include "src/torture/gate.h"

namespace torture {

class GatedWorkers {
 public:
  struct Worker {
    GatedWorkers* owner = nullptr;
    uint32_t id = 0;
    uint64_t rng = 0;
    sched::Thread* thread = nullptr;
    // A static string the worker sets before each step that may wait
    // (read without a lock, for the report).
    base::Atomic<const char*> doing{"starting"};
    void set_doing(const char* what) { doing.store(what, base::MemoryOrder::kRelaxed); }
  };

  uint32_t failures() const { return failures_.load(base::MemoryOrder::kRelaxed); }
  const char* first_failure() const { return first_failure_; }
  void fail(const char* what);
  bool stopping() const { return stop_.load(base::MemoryOrder::kRelaxed) != 0; }

  /// Worker side: passes the gate (parks while it is closed).
  void checkpoint(Worker& w);

  /// Prints each worker that is not parked at the gate: its state, CPU,
  /// what it is doing and, when it is off the CPU, its call chain.
  /// Returns the CPUs (bit i for CPU i < 64) that ran one of them.
  uint64_t report_unparked() const;

  Gate* gate = nullptr;

 protected:
  GatedWorkers(const char* name, Worker* workers, uint32_t n) : name_(name), workers_(workers), n_(n) {}
  /// Spawns the workers (named as the churn), each running fn(&worker)
  /// with its own xorshift stream from `seed`; they pass `g`.
  base::Status spawn_workers(Gate* g, void (*fn)(void*), uint64_t seed);
  /// Sets the stop flag and joins every worker spawned.
  void join_workers();

 private:
  const char* name_;
  Worker* workers_;
  uint32_t n_;
  base::Atomic<uint32_t> stop_{0};
  base::Atomic<uint32_t> failures_{0};
  const char* first_failure_ = nullptr;
};

}  // namespace torture
