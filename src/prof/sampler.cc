// See sampler.h.
#include "src/prof/sampler.h"

#include "src/arch/console.h"

#include "src/arch/clock.h"
#include "src/arch/ipi.h"
#include "src/arch/irq_routing.h"
#include "src/arch/local_apic.h"
#include "src/arch/smp_boot.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/placement_new.h"
#include "src/mm/kmalloc.h"
#include "src/prof/interrupted_mode.h"
#include "src/prof/kernel_unwind.h"
#include "src/prof/periodic_nmi.h"
#include "src/prof/pmu_sampler.h"
#include "src/prof/pmu_sampling.h"
#include "src/prof/watchdog.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/thread.h"

namespace prof {
namespace {

constexpr uint8_t kPitIrq = 0;

// The running profile's source, read by every CPU's handlers (acquire:
// the rings are set up before it is published).
enum : uint32_t { kOff = 0, kNmi = 1, kTimerPath = 2, kPmu = 3 };
constinit base::Atomic<uint32_t> source{kOff};
constinit uint32_t rate_hz = 0;
constinit uint64_t rate_period_ns = 0;
constinit SampleEvent rate_event = SampleEvent::kNmiTimer;
constinit bool rate_lbr = false;
constinit bool have_rings = false;

// One sample of the context `f` interrupted, into this CPU's ring.
void take_sample(const arch::TrapFrame& f, SampleEvent event, const SampleBranch* branches = nullptr,
                 size_t n_branches = 0) {
  arch::PerCpu& cpu = arch::this_cpu();
  CpuProf* p = cpu.prof;
  if (p == nullptr || p->ring == nullptr) return;
  uint64_t pcs[kMaxSamplePcs];
  WalkEnd end = WalkEnd::kZeroFrame;
  const size_t n = unwind_from_trap(f, pcs, kMaxSamplePcs, &end);
  const sched::Thread* t = cpu.current_thread;
  SampleHeader h;
  h.cpu = cpu.index.value;
  h.tid = t != nullptr ? t->tid : 0;
  h.timestamp = arch::nanotime();
  h.flags = sample_flags::with_walk_end(sample_flags::make(interrupted_mode(cpu, pcs, n), (f.cs & 3) == 3), end);
  h.event = static_cast<uint8_t>(event);
  (void)p->ring->push(h, pcs, n, branches, n_branches);
}

// Takes a sample if the profile's source is still `want`. Dekker with
// sampler_stop: this CPU marks itself sampling before it reads `source`,
// and stop, having switched `source` off, waits for every mark to clear;
// so either this CPU sees the profile stopped, or stop waits for its
// sample. Without it an NMI that passed the check as stop began added a
// sample timestamped after the profile's end (the torture saw it).
void sample_while(uint32_t want, const arch::TrapFrame& f, SampleEvent event, const SampleBranch* branches = nullptr,
                  size_t n_branches = 0) {
  CpuProf* p = arch::this_cpu().prof;
  if (p == nullptr) return;
  // A count, not a flag: an NMI can land inside the timer path's sample.
  (void)p->sampling.fetch_add(1, base::MemoryOrder::kSeqCst);
  if (source.load(base::MemoryOrder::kSeqCst) == want) take_sample(f, event, branches, n_branches);
  (void)p->sampling.fetch_sub(1, base::MemoryOrder::kRelease);
}

// Waits until no CPU is inside sample_while (see there). A sample takes
// microseconds and waits for nothing; a second means a CPU stopped inside
// its NMI handler, which the console is told.
void wait_for_samples_in_flight() {
  const uint64_t deadline = arch::nanotime() + 1'000'000'000;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    const CpuProf* p = cpu_prof(cpu);
    while (p->sampling.load(base::MemoryOrder::kAcquire) != 0) {
      if (arch::nanotime() > deadline) {
        arch::kprint("prof: cpu {} has been inside a sample for a second; stopped without it\n", cpu);
        break;
      }
      arch::cpu_relax();
    }
  }
}

// The timer path: the PIT's interrupt on the boot CPU, passed on by IPI.
void on_prof_timer(arch::TrapFrame& f) {
  arch::lapic_eoi();
  if (source.load(base::MemoryOrder::kAcquire) != kTimerPath) return;
  for (uint32_t cpu = 1; cpu < prof_cpus(); ++cpu) {
    // Not to an offline CPU: it halts by design and takes no samples.
    if (arch::ap_is_online(arch::CpuIndex(cpu)) && !sched::cpu_is_offline(arch::CpuIndex(cpu)))
      (void)arch::send_ipi(arch::CpuIndex(cpu), arch::kVectorIpiProfTick);
  }
  sample_while(kTimerPath, f, SampleEvent::kTimer);
}

void on_prof_tick_ipi(arch::TrapFrame& f) {
  arch::lapic_eoi();
  sample_while(kTimerPath, f, SampleEvent::kTimer);
}

// Every CPU's ring, allocated the first time a profile starts and kept:
// 1 MiB each, too much to hold on a machine that never profiles.
base::Status ensure_rings() {
  if (have_rings) return base::Status::Ok();
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    CpuProf* p = cpu_prof(cpu);
    if (p->ring != nullptr) continue;
    void* mem = mm::kmalloc(sizeof(CpuRing));
    if (mem == nullptr) return base::Error::kOutOfMemory;  // the rings made so far stay for the next try
    ASSERT_MSG(reinterpret_cast<uintptr_t>(mem) % alignof(CpuRing) == 0, "prof: ring at {} misaligned", mem);
    p->ring = new (mem) CpuRing();
  }
  have_rings = true;
  return base::Status::Ok();
}

// Back to the watchdog's own rate (or nothing) once sampling ends.
void restore_watchdog_nmi() {
  if (watchdog_seconds() != 0 && periodic_nmi_unavailable() == nullptr)
    (void)periodic_nmi_start(kPeriodicMinHz);
  else
    periodic_nmi_stop();
}

}  // namespace

void sampler_init() {
  arch::set_trap_handler(arch::kVectorProfTimer, on_prof_timer);
  arch::set_trap_handler(arch::kVectorIpiProfTick, on_prof_tick_ipi);
}

base::Status sampler_start(uint32_t hz, SampleEvent event, bool lbr) {
  if (source.load(base::MemoryOrder::kAcquire) != kOff) return base::Error::kBusy;
  if (hz < kPeriodicMinHz || hz > kPeriodicMaxHz) return base::Error::kInvalidArgument;
  const bool pmu = is_pmu_event(event);
  if (lbr && !pmu) return base::Error::kInvalidArgument;
  if (pmu ? pmu_sampler_unavailable(pmu_event(event)) != nullptr : periodic_nmi_unavailable() != nullptr)
    return base::Error::kUnsupported;
  if (base::Status s = ensure_rings(); !s.ok()) return s;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    CpuProf* p = cpu_prof(cpu);
    p->ring->clear();
    p->accepted_at_start = p->ring->accepted();
    p->dropped_at_start = p->ring->dropped_full() + p->ring->dropped_busy();
  }
  rate_hz = hz;
  rate_event = event;
  rate_lbr = lbr;
  if (pmu) {
    // The periodic NMI stays at the watchdog's rate; the counters' NMIs
    // sample. Published first: a CPU samples from its first PMI.
    rate_period_ns = 1'000'000'000 / hz;  // the mean reload is the event's assumed rate / hz
    source.store(kPmu, base::MemoryOrder::kRelease);
    if (base::Status s = pmu_sampler_start(pmu_event(event), hz, lbr); !s.ok()) {
      source.store(kOff, base::MemoryOrder::kRelease);
      return s;
    }
    return base::Status::Ok();
  }
  if (event == SampleEvent::kNmiTimer) {
    source.store(kNmi, base::MemoryOrder::kRelease);
    if (base::Status s = periodic_nmi_start(hz); !s.ok()) {
      source.store(kOff, base::MemoryOrder::kRelease);
      return s;
    }
    rate_period_ns = periodic_nmi_period_ns();
    return base::Status::Ok();
  }
  // The timer path takes the PIT from the watchdog for its duration.
  periodic_nmi_stop();
  base::Result<uint64_t> period = pit_set_rate(hz);
  if (!period.ok()) {
    restore_watchdog_nmi();
    return period.error();
  }
  rate_period_ns = period.value();
  source.store(kTimerPath, base::MemoryOrder::kRelease);
  if (base::Status s = arch::route_isa_irq(kPitIrq, arch::kVectorProfTimer, arch::CpuIndex(0)); !s.ok()) {
    source.store(kOff, base::MemoryOrder::kRelease);
    restore_watchdog_nmi();
    return s;
  }
  return base::Status::Ok();
}

bool sampler_stop() {
  const uint32_t was = source.exchange(kOff, base::MemoryOrder::kSeqCst);
  if (was == kOff) return false;
  wait_for_samples_in_flight();
  if (was == kPmu) {
    pmu_sampler_stop();  // the periodic NMI was left alone
    return true;
  }
  if (was == kTimerPath) (void)arch::mask_isa_irq(kPitIrq);
  restore_watchdog_nmi();
  return true;
}

SamplerStatus sampler_status() {
  SamplerStatus s;
  s.running = source.load(base::MemoryOrder::kAcquire) != kOff;
  s.event = rate_event;
  s.hz = rate_hz;
  s.period_ns = rate_period_ns;
  s.have_profile = have_rings;
  s.lbr = rate_lbr;
  return s;
}

uint64_t sampler_samples() {
  uint64_t n = 0;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    const CpuProf* p = cpu_prof(cpu);
    if (p->ring != nullptr) n += p->ring->accepted() - p->accepted_at_start;
  }
  return n;
}

uint64_t sampler_dropped() {
  uint64_t n = 0;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    const CpuProf* p = cpu_prof(cpu);
    if (p->ring != nullptr) n += p->ring->dropped_full() + p->ring->dropped_busy() - p->dropped_at_start;
  }
  return n;
}

bool sampler_nmi_tick_wanted() { return source.load(base::MemoryOrder::kAcquire) == kNmi; }

void sampler_nmi_tick(const arch::TrapFrame& f) { sample_while(kNmi, f, SampleEvent::kNmiTimer); }

bool sampler_pmi(const arch::TrapFrame& f) {
  // On this NMI stack (8 KiB): 32 branches are 768 bytes.
  SampleBranch branches[kMaxSampleBranches];
  size_t n_branches = 0;
  if (!pmu_sampler_nmi(branches, kMaxSampleBranches, &n_branches)) return false;
  // A PMI after prof stop began (the counter disarmed next) samples nothing.
  sample_while(kPmu, f, rate_event, branches, n_branches);
  return true;
}

}  // namespace prof
