// prof's per-CPU block, reached from arch::PerCpu::prof: the CPU's sample
// ring, the snapshot its NMI handler fills for `bt` and for a panic that
// stops the world, its watchdog state and its PMU counter. Allocated once for every CPU by
// prof_init. Kernel only.
#pragma once

#include "src/arch/lapic.h"
#include "src/arch/percpu.h"
#include "src/arch/trap_frame.h"
#include "src/base/atomic.h"
#include "src/base/types.h"
#include "src/prof/backtrace.h"
#include "src/prof/pmu_sampling.h"
#include "src/prof/sample_ring.h"
#include "src/prof/watchdog_state.h"

namespace prof {

/// A CPU's sample ring: 1 MiB, about 10,000 samples of a typical depth
/// (ten seconds at 1 kHz); a full ring drops and counts.
inline constexpr size_t kRingWords = size_t{1} << 17;
using CpuRing = SampleRing<kRingWords>;

/// What a CPU was doing when an NMI asked: the interrupted registers and
/// the stack below them.
struct CpuSnapshot {
  arch::TrapFrame frame{};
  uint64_t pcs[kMaxSamplePcs]{};  // pcs[0] = frame.rip, then return addresses
  uint8_t n_pcs = 0;
  WalkEnd end = WalkEnd::kZeroFrame;
  SampleMode mode = SampleMode::kThread;
  uint32_t tid = 0;
  char thread[24] = {};
};

struct CpuProf {
  uint32_t cpu = 0;
  // The sampler's (sampler.cc): the ring, kept between profiles, and its
  // counters when the current profile started.
  CpuRing* ring = nullptr;
  uint64_t accepted_at_start = 0;
  uint64_t dropped_at_start = 0;
  // Nonzero (raised sequentially consistent) while this CPU may take a
  // sample, around its check that a profile runs: sampler_stop waits for
  // zero, so no sample lands, or is timestamped, after stop returns.
  base::Atomic<uint32_t> sampling{0};
  // `bt` (snapshot.cc): the asker puts its request number (nonzero, new
  // each time) in `snapshot_wanted`; the NMI handler fills `snapshot`, then
  // publishes the number in `snapshot_answered` (release). An answer to an
  // older, timed-out request never matches a newer one.
  base::Atomic<uint32_t> snapshot_wanted{0};
  base::Atomic<uint32_t> snapshot_answered{0};
  CpuSnapshot snapshot;
  // Stopping the world: set (release) by this CPU's NMI handler once
  // `snapshot` holds where it was stopped.
  base::Atomic<uint32_t> stopped{0};
  // The watchdog's (watchdog.cc); only this CPU's NMI handler touches it.
  WatchdogState watchdog;
  // Set by the boot CPU's fan-out while this CPU is offline and gets no
  // ticks; this CPU's handler then forgets what its watchdog last saw.
  base::Atomic<uint32_t> watchdog_restart{0};
  uint64_t watchdog_reports = 0;
  // PMU sampling (pmu_sampler.cc): armed and disarmed on this CPU with
  // interrupts off, answered by its NMI handler.
  CpuPmuSampler<arch::CpuMsr> pmu;
};

/// This CPU's block, or null before prof_init. Any context, NMI included:
/// GS always holds the per-CPU block while the kernel's IDT is loaded
/// (percpu_install precedes idt_load on every CPU and nothing swaps GS;
/// test/check_gs_invariant.sh checks the image has no SWAPGS/WRGSBASE).
inline CpuProf* this_cpu_prof() { return arch::this_cpu().prof; }

/// CPU `cpu`'s block (cpu < prof_cpus()); null before prof_init.
CpuProf* cpu_prof(uint32_t cpu);

/// CPUs prof_init set up (0 before).
uint32_t prof_cpus();

}  // namespace prof
