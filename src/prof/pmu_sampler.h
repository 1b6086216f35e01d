// The kernel's PMU sampling (issue 13, items 1 and 9): the PMU discovered
// at boot, and counter 0 armed, answered and disarmed on every CPU through
// pmu_sampling.h's CpuPmuSampler with RDMSR/WRMSR and the CPU's own LAPIC.
// Each CPU programs its own counter and LVT: the calling thread moves to
// every online CPU in turn. sampler.cc decides what a PMI samples. Kernel
// only.
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"
#include "src/prof/lbr.h"
#include "src/prof/pmu.h"
#include "src/prof/sample_ring.h"

namespace prof {

/// Discovers the PMU from the boot CPU's CPUID (the CPUs of one machine
/// are one model) and registers the CPU presence hook that disarms a CPU
/// going offline and arms one coming back. Boot CPU, once (prof_init).
void pmu_sampler_init();

/// What pmu_sampler_init found.
const PmuInfo& boot_pmu();
const LbrInfo& boot_lbr();

/// Why `e` cannot be sampled here (a static string), or null when it can.
const char* pmu_sampler_unavailable(Event e);

/// Arms counter 0 of every online CPU (and, with `lbr`, its LBR stack:
/// each PMI's sample then carries the branches that led to it) to
/// overflow, as an NMI, about `hz`
/// times a second of `e` (pmu_sampling.h: reloads drawn +-50% around the
/// event's assumed rate / hz). kUnsupported when pmu_sampler_unavailable
/// says so or `lbr` is asked with no LBR (boot_lbr() says why),
/// kInvalidArgument when no reload fits (no TSC rate), or a
/// CPU's error (the CPUs armed before it are disarmed again). Thread
/// context, prof's lock. A CPU offline now is skipped, and armed when it
/// comes back (sched's CPU presence hook) while the profile runs.
base::Status pmu_sampler_start(Event e, uint32_t hz, bool lbr = false);

/// Disarms every armed CPU. A CPU going offline was disarmed by the
/// presence hook before it parked, so none is out of reach. Thread
/// context, prof's lock.
void pmu_sampler_stop();

/// The NMI handler's part in CPU hotplug: carries out another CPU's
/// request to arm or disarm this CPU's counter (PmuRequest); true if there
/// was one. NMI context.
bool pmu_sampler_answer();

/// The NMI handler's first step: answers this CPU's PMI (acknowledge,
/// re-arm, unmask the LVT). True if this NMI was one; with the LBR on,
/// its branches (newest first) are in branches[0..*n_branches), read
/// while the PMI held them frozen. NMI context.
bool pmu_sampler_nmi(SampleBranch* branches, size_t cap, size_t* n_branches);

}  // namespace prof
