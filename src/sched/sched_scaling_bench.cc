// Throughput at scale (`bench=sched.throughput_*`): N CPU-bound threads,
// spawned unpinned from CPU 0 so that the scheduler must spread them, run
// for a fixed interval T. The figure is guest time per unit of work done,
// divided by the share of the N CPUs the threads kept busy; with perfect
// spreading and no scheduling overhead every figure equals the 1-thread
// one, so
//     scaling efficiency(N) = figure(1) / figure(N)
// (the target: at least 95%).
//
// Why not simply "N threads do N times the work": under -icount QEMU runs
// one vCPU at a time and the guest clock counts the instructions of all of
// them, so in T guest ns N CPUs together execute T instructions, and its
// round-robin does not give each vCPU an equal slice. What the kernel
// controls, and what the figure measures, is (a) how many of those
// instructions are the threads' work rather than scheduling, ticks or idle
// spinning (the work per guest ns) and (b) whether the N threads occupy N
// CPUs (a CPU running two while another idles shows as an idle CPU: each
// CPU's busy share is 1 - its idle time / T, and idle time counts both
// halting and spinning for work). On hardware, where CPUs run in parallel,
// the same product is the plain work ratio.
#include "src/arch/clock.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/ktest/bench.h"
#include "src/ktest/pin_to.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

using base::MemoryOrder;

constexpr uint32_t kMaxWorkers = 16;
// The measured interval: long against a quantum (ticks, steals and the
// wake chain are averaged in), short enough for seven samples at 16 CPUs.
constexpr uint64_t kIntervalNs = 20'000'000;

struct alignas(64) WorkerCount {
  base::Atomic<uint64_t> units{0};
};

struct Scaling {
  base::Atomic<uint32_t> stop{0};
  base::Atomic<uint32_t> started{0};
  WorkerCount count[kMaxWorkers];
};

struct WorkerArg {
  Scaling* s;
  uint32_t i;
};

// One unit: 64 dependent multiply-adds (an LCG step each), a few hundred
// instructions, with no memory traffic but the unit counter.
void cpu_bound_worker(void* p) {
  auto* a = static_cast<WorkerArg*>(p);
  Scaling* s = a->s;
  WorkerCount& mine = s->count[a->i];
  s->started.fetch_add(1, MemoryOrder::kRelaxed);
  uint64_t x = a->i + 1;
  while (s->stop.load(MemoryOrder::kRelaxed) == 0) {
    for (int k = 0; k < 64; ++k) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      asm volatile("" : "+r"(x));
    }
    mine.units.store(mine.units.load(MemoryOrder::kRelaxed) + 1, MemoryOrder::kRelaxed);
  }
}

void throughput(ktest::BenchRun& run, uint32_t n) {
  if (arch::cpus_online() < n) {
    run.skip("needs more CPUs");
    return;
  }
  ktest::PinTo pin(arch::CpuIndex(0));
  Scaling s;
  WorkerArg args[kMaxWorkers];
  sched::Thread* threads[kMaxWorkers];
  for (uint32_t i = 0; i < n; ++i) {
    args[i] = WorkerArg{&s, i};
    base::Result<sched::Thread*> t = sched::spawn(cpu_bound_worker, &args[i], {.name = "cpu-bound"});
    ASSERT_MSG(t.ok(), "bench: spawn: {}", base::error_name(t.error()));
    threads[i] = t.value();
  }
  // Sleeping (not spinning) while we wait, so CPU 0 is a worker's too.
  while (s.started.load(MemoryOrder::kRelaxed) < n) sched::sleep_for(100'000);
  // A quantum for the spread to settle, then the measured interval.
  sched::sleep_for(2'000'000);
  const uint32_t ncpu = arch::cpus_online();
  uint64_t units0 = 0;
  for (uint32_t i = 0; i < n; ++i) units0 += s.count[i].units.load(MemoryOrder::kRelaxed);
  uint64_t idle0 = 0;
  for (uint32_t c = 0; c < ncpu; ++c) idle0 += sched::cpu_stats(arch::CpuIndex(c)).idle_ns;
  uint64_t ns0 = arch::nanotime();
  uint64_t t0 = arch::rdtsc();
  // One interval; on a loaded host (no -icount) the vCPUs may not have run
  // the workers in it at all, so more intervals, up to a second, until
  // they have done some work.
  uint64_t units = 0;
  do {
    sched::sleep_for(kIntervalNs);
    units = 0;
    for (uint32_t i = 0; i < n; ++i) units += s.count[i].units.load(MemoryOrder::kRelaxed);
    units -= units0;
  } while (units == 0 && arch::nanotime() - ns0 < 1'000'000'000);
  uint64_t t1 = arch::rdtsc();
  uint64_t interval_ns = arch::nanotime() - ns0;
  uint64_t idle_ns = 0;
  for (uint32_t c = 0; c < ncpu; ++c) idle_ns += sched::cpu_stats(arch::CpuIndex(c)).idle_ns;
  idle_ns -= idle0;
  s.stop.store(1, MemoryOrder::kRelaxed);
  for (uint32_t i = 0; i < n; ++i) sched::join(threads[i]);
  ASSERT_MSG(units > 0, "bench: {} CPU-bound threads did no work in {} ns", n, interval_ns);
  // CPUs kept busy, in thousandths of a CPU over the interval: all of them
  // but their idle time; at most the N the threads can occupy.
  uint64_t busy_milli = (uint64_t{ncpu} * interval_ns - (idle_ns < ncpu * interval_ns ? idle_ns : ncpu * interval_ns)) *
                        1000 / interval_ns;
  if (busy_milli > uint64_t{n} * 1000) busy_milli = uint64_t{n} * 1000;
  if (busy_milli == 0) busy_milli = 1;
  // Guest cycles per unit over the share kept busy, scaled to the runner's
  // iteration count.
  run.add_cycles((t1 - t0) * run.iterations() * n * 1000 / (units * busy_milli));
}

BENCH_N(sched, throughput_1_cpu, 1000) { throughput(run, 1); }
BENCH_N(sched, throughput_2_cpus, 1000) { throughput(run, 2); }
BENCH_N(sched, throughput_4_cpus, 1000) { throughput(run, 4); }
BENCH_N(sched, throughput_8_cpus, 1000) { throughput(run, 8); }
BENCH_N(sched, throughput_16_cpus, 1000) { throughput(run, 16); }

}  // namespace
}  // namespace sched
