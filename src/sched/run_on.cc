// Work put on one CPU (see run_on.h): one slot per CPU, claimed by run_on
// and released by the pinned thread once fn returned.
#include "src/sched/run_on.h"

#include "src/arch/smp.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

using base::MemoryOrder;

struct alignas(64) CpuWork {
  base::Atomic<uint32_t> state{0};
  void (*fn)(void*) = nullptr;
  void* arg = nullptr;
};
enum : uint32_t { kWorkIdle = 0, kWorkClaimed };
constinit CpuWork cpu_work[arch::kMaxCpus];

void run_work(void* p) {
  auto* w = static_cast<CpuWork*>(p);
  w->fn(w->arg);
  // Release: the work's effects before "done".
  w->state.store(kWorkIdle, MemoryOrder::kRelease);
}

}  // namespace

base::Status run_on(arch::CpuIndex cpu, void (*fn)(void*), void* arg) {
  if (!arch::ap_is_online(cpu)) return base::Error::kInvalidArgument;
  CpuWork& w = cpu_work[cpu.value];
  uint32_t expected = kWorkIdle;
  if (!w.state.compare_exchange(expected, kWorkClaimed, MemoryOrder::kAcquire, MemoryOrder::kRelaxed))
    return base::Error::kBusy;
  w.fn = fn;
  w.arg = arg;
  base::Result<Thread*> t = spawn(run_work, &w, ThreadOptions{.name = "cpu-work", .affinity = Affinity::only(cpu)});
  if (!t.ok()) {
    w.state.store(kWorkIdle, MemoryOrder::kRelease);
    return t.error();
  }
  detach(t.value());
  return base::Status::Ok();
}

void run_on_wait(arch::CpuIndex cpu) {
  ASSERT(cpu.value < arch::kMaxCpus);
  while (cpu_work[cpu.value].state.load(MemoryOrder::kAcquire) != kWorkIdle) arch::cpu_relax();
}

}  // namespace sched
