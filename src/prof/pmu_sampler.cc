// See pmu_sampler.h.
#include "src/prof/pmu_sampler.h"

#include "src/arch/clock.h"
#include "src/arch/cpu_features.h"
#include "src/arch/local_apic.h"
#include "src/arch/percpu.h"
#include "src/arch/x86.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/pmu_sampling.h"
#include "src/sched/thread.h"

namespace prof {
namespace {

constinit PmuInfo pmu{};

// How long to_cpu yields for the scheduler to move the caller.
constexpr int kMoveTries = 1000;

// Moves the calling thread to `cpu` (set_affinity then yield, as the
// affinity takes effect when the thread is next queued). False when the
// CPU takes no threads (offline) or the move did not happen.
bool to_cpu(uint32_t cpu) {
  if (!sched::set_affinity(sched::current(), cpu).ok()) return false;
  for (int i = 0; i < kMoveTries; ++i) {
    sched::yield();
    if (arch::this_cpu().index == cpu) return true;
  }
  return false;
}

// Runs fn(this CPU's prof block) on `cpu` with interrupts off, so the
// thread stays there; false if the thread could not get there.
template <typename Fn>
bool on_cpu(uint32_t cpu, Fn fn) {
  if (!to_cpu(cpu)) return false;
  const uint64_t flags = arch::irq_save();
  const bool there = arch::this_cpu().index == cpu;
  if (there) fn(*this_cpu_prof());
  arch::irq_restore(flags);
  return there;
}

// Disarms every CPU still armed that the caller can reach.
void disarm_all() {
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    if (!cpu_prof(cpu)->pmu.armed()) continue;
    (void)on_cpu(cpu, [](CpuProf& p) {
      arch::with_lapic([&](auto& l) {
        p.pmu.disarm(l);
        return 0;
      });
    });
  }
}

// Puts the caller's affinity back when the walk over the CPUs ends.
class RestoreAffinity {
 public:
  RestoreAffinity() : old_(sched::current()->affinity.load(base::MemoryOrder::kRelaxed)) {}
  ~RestoreAffinity() { (void)sched::set_affinity(sched::current(), old_); }
  RestoreAffinity(const RestoreAffinity&) = delete;
  RestoreAffinity& operator=(const RestoreAffinity&) = delete;

 private:
  uint32_t old_;
};

}  // namespace

void pmu_sampler_init() { pmu = discover_pmu(arch::CpuidInsn{}); }

const PmuInfo& boot_pmu() { return pmu; }

const char* pmu_sampler_unavailable(Event e) { return pmu_event_unavailable(pmu, e); }

base::Status pmu_sampler_start(Event e, uint32_t hz) {
  if (pmu_sampler_unavailable(e) != nullptr) return base::Error::kUnsupported;
  base::Result<PeriodRange> range = sample_period_range(assumed_event_rate(e, arch::tsc_hz()), hz, max_reload(pmu));
  if (!range.ok()) return range.error();
  const SampleConfig cfg{e, CountMode::kBoth, range.value().min, range.value().max};
  RestoreAffinity restore;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    base::Status s = base::Status::Ok();
    const bool reached = on_cpu(cpu, [&](CpuProf& p) {
      p.pmu.init(pmu, arch::CpuMsr{}, XorShift64(arch::rdtsc(), cpu));
      s = arch::with_lapic([&](auto& l) { return p.pmu.arm(l, cfg); });
    });
    // An offline CPU is skipped; one that is online but failed is an error.
    if (reached && !s.ok()) {
      disarm_all();
      return s;
    }
  }
  return base::Status::Ok();
}

void pmu_sampler_stop() {
  RestoreAffinity restore;
  disarm_all();
}

bool pmu_sampler_nmi() {
  CpuProf* p = this_cpu_prof();
  if (p == nullptr || !p->pmu.armed()) return false;
  const OverflowSet ov = arch::with_lapic([&](auto& l) { return p->pmu.on_nmi(l); });
  return ov.bits != 0;
}

}  // namespace prof
