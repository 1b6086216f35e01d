// The SIMD policy under load (src/sched/simd.h): more threads than CPUs run
// vector sums inside SimdRegions while timer interrupts and preemption go
// on around them, and every result is checked against a scalar sum.
// switch_context does not save vector registers, so if a SimdRegion ever
// let another thread onto the CPU, or an interrupt path used SSE, a
// thread's accumulators would be clobbered and its sums would be wrong.
#include "src/arch/smp_boot.h"
#include "src/base/atomic.h"
#include "src/ktest/ktest.h"
#include "src/sched/simd.h"
#include "src/sched/thread.h"
#include "src/sched/timer.h"

namespace sched {
namespace {

using base::MemoryOrder;

constexpr size_t kWords = 2048;

using V4 = uint32_t __attribute__((vector_size(16)));

// A weighted sum, four lanes at a time, several passes: long enough that
// interrupts land in the middle, with the accumulators live in XMM
// registers throughout.
SIMD_FUNCTION uint32_t simd_weighted_sum(const uint32_t* words, uint32_t passes) {
  V4 acc = {0, 0, 0, 0};
  V4 weight = {1, 2, 3, 4};
  const V4 step = {4, 4, 4, 4};
  for (uint32_t p = 0; p < passes; ++p) {
    V4 w = weight;
    for (size_t i = 0; i < kWords; i += 4) {
      V4 v;
      __builtin_memcpy(&v, words + i, sizeof(v));
      acc += v * w;
      w += step;
    }
  }
  return acc[0] + acc[1] + acc[2] + acc[3];
}

uint32_t scalar_weighted_sum(const uint32_t* words, uint32_t passes) {
  uint32_t sum = 0;
  for (uint32_t p = 0; p < passes; ++p)
    for (size_t i = 0; i < kWords; ++i) sum += words[i] * static_cast<uint32_t>(i + 1);
  return sum;
}

struct SimdWorker {
  uint32_t words[kWords];
  uint32_t seed = 0;
  uint32_t rounds = 0;
  base::Atomic<uint32_t> wrong{0};
};

void simd_worker(void* p) {
  auto* w = static_cast<SimdWorker*>(p);
  uint32_t x = w->seed;
  for (uint32_t& v : w->words) v = x = x * 1'664'525u + 1'013'904'223u;
  constexpr uint32_t kPasses = 8;
  uint32_t expected = scalar_weighted_sum(w->words, kPasses);
  for (uint32_t r = 0; r < w->rounds; ++r) {
    uint32_t got;
    {
      sched::SimdRegion region;
      got = simd_weighted_sum(w->words, kPasses);
    }
    if (got != expected) w->wrong.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

KTEST(simd, vector_sums_stay_correct_under_preemption_and_interrupts) {
  const uint32_t n = 2 * arch::cpus_online() + 2;  // more threads than CPUs: preemption
  constexpr uint32_t kMaxThreads = 2 * 8 + 2;
  SimdWorker* workers[kMaxThreads];
  sched::Thread* threads[kMaxThreads];
  uint32_t made = n < kMaxThreads ? n : kMaxThreads;
  for (uint32_t i = 0; i < made; ++i) {
    workers[i] = new SimdWorker;
    workers[i]->seed = 0x1234'5678u * (i + 1);
    workers[i]->rounds = 150;
    base::Result<sched::Thread*> t = sched::spawn(simd_worker, workers[i], {.name = "simd"});
    KASSERT_TRUE(t.ok());
    threads[i] = t.value();
  }
  uint64_t preemptions = 0;
  for (uint32_t i = 0; i < made; ++i) {
    sched::join(threads[i]);
    KEXPECT_EQ(workers[i]->wrong.load(MemoryOrder::kRelaxed), 0u);
  }
  for (uint32_t c = 0; c < arch::cpus_online(); ++c) preemptions += sched::cpu_stats(arch::CpuIndex(c)).preemptions;
  KEXPECT_GT(preemptions, 0u);  // the run did preempt (outside the regions)
  for (uint32_t i = 0; i < made; ++i) delete workers[i];
}

}  // namespace
}  // namespace sched
