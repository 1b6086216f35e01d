// What profiling costs: a fixed piece of work (about a million guest
// instructions, a millisecond under --icount) on CPU 0, which at 1 kHz
// takes about one sampling NMI per piece and also passes each tick on to
// the other CPUs. Booted once plain and once with prof.start=1000, the two
// figures' ratio is the sampler's overhead (README, "prof").
#include "src/ktest/bench.h"
#include "src/ktest/pin_to.h"

namespace {

// A dependent chain the compiler cannot fold: three instructions a round.
[[gnu::noinline]] uint64_t fixed_work(uint64_t rounds) {
  uint64_t x = 0;
  for (uint64_t i = 0; i < rounds; ++i) asm volatile("add %1, %0" : "+r"(x) : "r"(i));
  return x;
}

BENCH_N(prof, fixed_work_1m_instructions_on_cpu0, 20) {
  ktest::PinTo pin(arch::CpuIndex(0));
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) (void)fixed_work(333'333);
  run.stop();
}

}  // namespace
