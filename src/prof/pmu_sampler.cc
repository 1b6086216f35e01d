// See pmu_sampler.h.
#include "src/prof/pmu_sampler.h"

#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/cpu_features.h"
#include "src/arch/ipi.h"
#include "src/arch/local_apic.h"
#include "src/arch/percpu.h"
#include "src/arch/x86.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/pmu_sampling.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"

namespace prof {
namespace {

constinit PmuInfo pmu{};
constinit LbrInfo lbr_info{};

// Start, stop and the CPU presence hooks, one at a time: a hook that runs
// while a start walks the CPUs would race it for the same counter.
constinit sched::Mutex walk_lock;
// The running profile's counter setup, for a CPU that comes back online
// (under walk_lock).
constinit bool profile_running GUARDED_BY(walk_lock) = false;
constinit SampleConfig profile_cfg GUARDED_BY(walk_lock){};
constinit bool profile_lbr GUARDED_BY(walk_lock) = false;

// How long a hook waits for a CPU's NMI handler to answer: NMIs are
// answered within microseconds, even by a parked CPU; far longer means
// the CPU is wedged, which the hook says.
constexpr uint64_t kAnswerBoundNs = 1'000'000'000;

// How long to_cpu yields for the scheduler to move the caller.
constexpr int kMoveTries = 1000;

// Moves the calling thread to `cpu` (set_affinity then yield, as the
// affinity takes effect when the thread is next queued). False when the
// CPU takes no threads (offline) or the move did not happen.
bool to_cpu(uint32_t cpu) {
  if (!sched::set_affinity(sched::current(), sched::Affinity::only(arch::CpuIndex(cpu))).ok()) return false;
  for (int i = 0; i < kMoveTries; ++i) {
    sched::yield();
    if (arch::this_cpu().index.value == cpu) return true;
  }
  return false;
}

// Runs fn(this CPU's prof block) on `cpu` with interrupts off, so the
// thread stays there; false if the thread could not get there.
template <typename Fn>
bool on_cpu(uint32_t cpu, Fn fn) {
  if (!to_cpu(cpu)) return false;
  const uint64_t flags = arch::irq_save();
  const bool there = arch::this_cpu().index.value == cpu;
  if (there) fn(*this_cpu_prof());
  arch::irq_restore(flags);
  return there;
}

// Disarms every CPU still armed that the caller can reach.
void disarm_all() REQUIRES(walk_lock) {
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
  sched::Affinity old_;
};

// Has CPU `cpu`'s NMI handler carry out `r` on its own counter and waits
// for it. False (said on the console) when it did not answer in time.
bool ask(uint32_t cpu, PmuRequest r, const SampleConfig& cfg) REQUIRES(walk_lock) {
  CpuProf& p = *cpu_prof(cpu);
  p.pmu.post(r, cfg);
  if (base::Status s = arch::send_nmi(arch::CpuIndex(cpu)); !s.ok()) {
    if (p.pmu.withdraw()) {
      arch::kprint("prof: cpu {}: the NMI to {} its PMU counter was not sent: {}\n", cpu,
                   r == PmuRequest::kArm ? "arm" : "disarm", base::error_name(s.error()));
      return false;
    }
  }
  const uint64_t deadline = arch::nanotime() + kAnswerBoundNs;
  while (!p.pmu.answered()) {
    if (arch::nanotime() >= deadline && p.pmu.withdraw()) {
      arch::kprint("prof: cpu {} did not answer the NMI to {} its PMU counter within {} ms\n", cpu,
                   r == PmuRequest::kArm ? "arm" : "disarm", kAnswerBoundNs / 1'000'000);
      return false;
    }
    arch::cpu_relax();
  }
  return true;
}

// sched's presence hooks: a CPU going offline has its counter disarmed
// before it parks (else it counts on, and its PMIs wake the halted CPU);
// one coming back is armed for the running profile with the same reload
// policy (a fresh generator, the profile's range).
void cpu_leaving(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  sched::MutexGuard g(walk_lock);
  if (cpu_prof(cpu) == nullptr || !cpu_prof(cpu)->pmu.armed()) return;
  (void)ask(cpu, PmuRequest::kDisarm, {});
}

void cpu_returned(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  sched::MutexGuard g(walk_lock);
  CpuProf* p = cpu_prof(cpu);
  if (!profile_running || p == nullptr) return;
  // It is disarmed: its handler reads none of what init sets.
  p->pmu.init(pmu, arch::CpuMsr{}, XorShift64(arch::rdtsc(), cpu), profile_lbr ? &lbr_info : nullptr);
  if (!ask(cpu, PmuRequest::kArm, profile_cfg)) return;
  if (base::Status s = p->pmu.answer_status(); !s.ok())
    arch::kprint("prof: cpu {} is back online but its PMU counter was not armed: {}\n", cpu,
                 base::error_name(s.error()));
}

constinit sched::CpuPresenceHook presence_hook{cpu_leaving, cpu_returned, nullptr};

}  // namespace

void pmu_sampler_init() {
  pmu = discover_pmu(arch::CpuidInsn{});
  arch::CpuMsr msr;
  lbr_info = discover_lbr(arch::CpuidInsn{}, msr);  // reads only the MSR CPUID promises
  sched::register_cpu_presence_hook(&presence_hook);
}

const PmuInfo& boot_pmu() { return pmu; }

const LbrInfo& boot_lbr() { return lbr_info; }

const char* pmu_sampler_unavailable(Event e) { return pmu_event_unavailable(pmu, e); }

base::Status pmu_sampler_start(Event e, uint32_t hz, bool lbr) {
  if (pmu_sampler_unavailable(e) != nullptr) return base::Error::kUnsupported;
  if (lbr && lbr_info.kind == LbrKind::kNone) return base::Error::kUnsupported;
  base::Result<PeriodRange> range = sample_period_range(assumed_event_rate(e, arch::tsc_hz()), hz, max_reload(pmu));
  if (!range.ok()) return range.error();
  const SampleConfig cfg{e, CountMode::kBoth, range.value().min, range.value().max};
  sched::MutexGuard g(walk_lock);
  RestoreAffinity restore;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    base::Status s = base::Status::Ok();
    const bool reached = on_cpu(cpu, [&](CpuProf& p) {
      p.pmu.init(pmu, arch::CpuMsr{}, XorShift64(arch::rdtsc(), cpu), lbr ? &lbr_info : nullptr);
      s = arch::with_lapic([&](auto& l) { return p.pmu.arm(l, cfg); });
    });
    // An offline CPU is skipped; one that is online but failed is an error.
    if (reached && !s.ok()) {
      disarm_all();
      return s;
    }
  }
  profile_running = true;
  profile_cfg = cfg;
  profile_lbr = lbr;
  return base::Status::Ok();
}

void pmu_sampler_stop() {
  sched::MutexGuard g(walk_lock);
  profile_running = false;
  RestoreAffinity restore;
  disarm_all();
}

bool pmu_sampler_answer() {
  CpuProf* p = this_cpu_prof();
  if (p == nullptr) return false;
  return arch::with_lapic([&](auto& l) { return p->pmu.answer(l); });
}

bool pmu_sampler_nmi(SampleBranch* branches, size_t cap, size_t* n_branches) {
  *n_branches = 0;
  CpuProf* p = this_cpu_prof();
  if (p == nullptr || !p->pmu.armed()) return false;
  const OverflowSet ov = arch::with_lapic([&](auto& l) { return p->pmu.on_nmi(l, branches, cap, n_branches); });
  return ov.bits != 0;
}

}  // namespace prof
