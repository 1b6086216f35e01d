// PinTo: pins the calling thread to one CPU for a scope, for in-kernel
// tests and benchmarks that must measure or check one fixed CPU. Thread
// context.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/base/atomic.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace ktest {

/// Sets the caller's affinity to `cpu` and yields, so it runs there before
/// the constructor returns; the destructor restores the old affinity.
class PinTo {
 public:
  explicit PinTo(arch::CpuIndex cpu)
      : self_(sched::current()), old_(self_->affinity.load(base::MemoryOrder::kRelaxed)) {
    (void)sched::set_affinity(self_, sched::Affinity::only(cpu));
    sched::yield();
  }
  ~PinTo() { (void)sched::set_affinity(self_, old_); }
  PinTo(const PinTo&) = delete;
  PinTo& operator=(const PinTo&) = delete;

 private:
  sched::Thread* self_;
  sched::Affinity old_;
};

}  // namespace ktest
