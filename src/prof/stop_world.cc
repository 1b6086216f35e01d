// See stop_world.h.
#include "src/prof/stop_world.h"

#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/ipi.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/snapshot.h"

namespace prof {
namespace {

// 1 + the CPU stopping the world; 0 while it runs.
constinit base::Atomic<uint32_t> stopper{0};

// How long a CPU may take to answer the stop NMI: it answers within
// microseconds unless it is itself stuck in an NMI handler or gone.
constexpr uint64_t kStopWaitNs = 500'000'000;

bool is_other_online_cpu(uint32_t cpu, uint32_t me) {
  return cpu != me && (cpu == 0 || arch::ap_is_online(arch::CpuIndex(cpu)));
}

}  // namespace

bool world_stopped_by_other(uint32_t cpu) {
  const uint32_t s = stopper.load(base::MemoryOrder::kAcquire);
  return s != 0 && s != cpu + 1;
}

void stop_other_cpus() {
  const uint32_t me = arch::this_cpu().index.value;
  if (this_cpu_prof() == nullptr) return;
  uint32_t expected = 0;
  if (!stopper.compare_exchange(expected, me + 1, base::MemoryOrder::kAcqRel, base::MemoryOrder::kAcquire)) {
    if (expected == me + 1) return;  // a second report on the stopping CPU
    // Another CPU is stopping the world; its NMI parks this one. Until the
    // NMI lands (it may be blocked if this is an NMI handler), wait here.
    for (;;) arch::cpu_relax();
  }
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    if (is_other_online_cpu(cpu, me)) (void)arch::send_nmi_from_nmi(arch::CpuIndex(cpu));
  }
  // One deadline for all: they stop in parallel.
  const uint64_t deadline = arch::nanotime() + kStopWaitNs;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    if (!is_other_online_cpu(cpu, me)) continue;
    while (cpu_prof(cpu)->stopped.load(base::MemoryOrder::kAcquire) == 0 && arch::nanotime() < deadline)
      arch::cpu_relax();
  }
  // The console may be held by a CPU that is now stopped: take it (and
  // keep it; the run ends after the report).
  arch::console_lock_nmi();
}

void print_stopped_cpus(base::Sink out) {
  const uint32_t me = arch::this_cpu().index.value;
  if (stopper.load(base::MemoryOrder::kAcquire) != me + 1) return;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    if (!is_other_online_cpu(cpu, me)) continue;
    const CpuProf* p = cpu_prof(cpu);
    if (p->stopped.load(base::MemoryOrder::kAcquire) == 0) {
      base::format(out, "\ncpu {}: did not stop (no answer to NMI)\n", cpu);
      continue;
    }
    base::format(out, "\nstopped ");
    print_snapshot(out, cpu, p->snapshot);
  }
}

void park_stopped_cpu(const arch::TrapFrame& f) {
  CpuProf* p = this_cpu_prof();
  capture_snapshot(f, &p->snapshot);
  p->stopped.store(1, base::MemoryOrder::kRelease);
  // NMIs stay blocked until an IRET this handler never runs, and
  // interrupts are off: only INIT or a reset ends this.
  for (;;) asm volatile("hlt");
}

}  // namespace prof
