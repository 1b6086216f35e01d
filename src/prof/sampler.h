// The sampler (issue 13, items 3 and 4): every CPU records a sample (CPU,
// thread, mode, event, TSC, RIP and up to 32 return addresses) into its own
// ring at each tick of the chosen source:
//   nmi    the periodic NMI (periodic_nmi.h): sees code with interrupts off;
//   timer  the PIT as a maskable interrupt, passed on by IPI: the classic
//          timer path, blind where interrupts are off;
//   cycles, instructions, branch-misses, llc-misses
//          each CPU's PMU counter 0 overflowing (pmu_sampler.h), as an
//          NMI: where the event happens, on a machine with a PMU.
// Samples are taken in interrupt or NMI context without locks, allocation
// or printing. The rings keep the last profile until the next start.
// Kernel only.
#pragma once

#include "src/arch/trap_frame.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/dump_format.h"

namespace prof {

inline constexpr uint32_t kSamplerDefaultHz = 1000;

struct SamplerStatus {
  bool running = false;
  SampleEvent event = SampleEvent::kNmiTimer;
  uint32_t hz = 0;            // asked for
  uint64_t period_ns = 0;     // what the PIT gives
  bool have_profile = false;  // rings exist (a profile was started)
  bool lbr = false;           // samples carry the LBR stack
};

/// Starts a profile at `hz` per CPU from `event`'s source, emptying the
/// rings. kInvalidArgument for a rate out of range (or, for a PMU event,
/// no TSC rate to scale it), kUnsupported when the source is unavailable
/// (periodic_nmi_unavailable, or pmu_sampler_unavailable for a PMU event), kOutOfMemory when the rings cannot be had,
/// kBusy when a profile runs. With `lbr`, each sample also carries the
/// LBR stack, read frozen at the PMI: a PMU event only (kInvalidArgument
/// otherwise), kUnsupported where there is no LBR (pmu_sampler.h's
/// boot_lbr() says why). Thread context.
base::Status sampler_start(uint32_t hz, SampleEvent event, bool lbr = false);

/// Stops the profile (the samples stay). False if none ran. Thread context.
bool sampler_stop();

SamplerStatus sampler_status();

/// Calls fn(const Sample&) for every stored sample, CPU by CPU, without
/// taking them; returns how many. Thread context, with no profile running
/// or while one runs (it sees the samples stored when it reaches a CPU).
template <typename Fn>
uint64_t sampler_for_each(Fn&& fn) {
  uint64_t n = 0;
  for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
    const CpuRing* ring = cpu_prof(cpu)->ring;
    if (ring != nullptr) n += ring->for_each(fn);
  }
  return n;
}

/// Samples kept and dropped (full ring or re-entered) since the start.
uint64_t sampler_samples();
uint64_t sampler_dropped();

/// Whether a profile samples from the periodic NMI (so every tick must
/// reach every CPU). Any context, NMI included.
bool sampler_nmi_tick_wanted();

/// The NMI handler's part on each periodic NMI. NMI context.
void sampler_nmi_tick(const arch::TrapFrame& f);

/// The NMI handler's first step: if this NMI is this CPU's PMI, answers
/// it (pmu_sampler_nmi), samples `f` when a PMU profile runs, and returns
/// true. NMI context.
bool sampler_pmi(const arch::TrapFrame& f);

/// Sets up the timer path's handlers. Boot CPU, once (prof_init).
void sampler_init();

}  // namespace prof
