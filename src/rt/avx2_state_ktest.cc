// The SIMD policy with AVX2 (what objs_avx2.cc relies on): YMM sums stay
// right while timer interrupts land inside SimdRegions and threads are
// preempted between them.
#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/base/atomic.h"
#include "src/ktest/ktest.h"
#include "src/rt/objs.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"
#include "src/sched/simd.h"
#include "src/sched/thread.h"

namespace rt {
namespace {

using base::MemoryOrder;

constexpr unsigned kRows = 256;  // Objs-sized rows of counters
constexpr uint32_t kPasses = 8;
constexpr uint32_t kRounds = 60;

using U8 = uint32_t __attribute__((vector_size(32)));

// Weighted sums of every row, three YMM accumulators (one per third of a
// row) live throughout; the weights differ per lane so a lost upper half
// changes the answer.
SIMD_AVX2_FUNCTION void avx2_row_sums(const uint32_t* rows, Objs* out) {
  U8 acc[kObjsClasses / 8] = {};
  const U8 first = {1, 2, 3, 4, 5, 6, 7, 8};
  const U8 step = {8, 8, 8, 8, 8, 8, 8, 8};
  for (uint32_t p = 0; p < kPasses; ++p) {
    U8 w = first;
    for (unsigned r = 0; r < kRows; ++r) {
      for (unsigned k = 0; k < kObjsClasses / 8; ++k) {
        U8 v;
        __builtin_memcpy(&v, &rows[r * kObjsClasses + 8 * k], sizeof(v));
        acc[k] += v * w;
      }
      w += step;
    }
  }
  __builtin_memcpy(out->n, acc, sizeof(acc));
}

void scalar_row_sums(const uint32_t* rows, Objs* out) {
  *out = Objs{};
  for (uint32_t p = 0; p < kPasses; ++p)
    for (unsigned r = 0; r < kRows; ++r)
      for (unsigned i = 0; i < kObjsClasses; ++i) (*out)[i] += rows[r * kObjsClasses + i] * ((i % 8) + 1 + 8 * r);
}

// Rows as plain words (AVX2 loads need no alignment): a Worker then needs
// no over-aligned operator new, which the kernel does not provide.
struct Worker {
  uint32_t rows[kRows * kObjsClasses];
  uint32_t seed = 0;
  uint32_t rounds = 0;
  base::Atomic<uint32_t> wrong{0};
  base::Atomic<uint32_t> interrupted{0};  // rounds a timer interrupt landed in
};

void worker(void* p) {
  auto* w = static_cast<Worker*>(p);
  uint32_t x = w->seed;
  for (uint32_t& v : w->rows) v = x = x * 1'664'525u + 1'013'904'223u;
  Objs want, got;
  scalar_row_sums(w->rows, &want);
  for (uint32_t r = 0; r < w->rounds; ++r) {
    {
      sched::SimdRegion simd;
      // The CPU cannot change inside the region: its tick count before and
      // after tells whether a timer interrupt landed while YMM was live.
      const uint32_t cpu = arch::this_cpu().index.value;
      const uint64_t ticks = sched::cpu_stats(arch::CpuIndex(cpu)).timer_interrupts;
      avx2_row_sums(w->rows, &got);
      if (sched::cpu_stats(arch::CpuIndex(cpu)).timer_interrupts != ticks)
        w->interrupted.fetch_add(1, MemoryOrder::kRelaxed);
    }
    if (got != want) w->wrong.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

// More threads than CPUs keep sums of counter rows in YMM registers, all
// 256 bits live, for long stretches inside SimdRegions. Nothing saves YMM
// state, so this holds only if no handler touches vector registers (a
// VEX.128 or legacy-SSE write would clear or keep the upper halves wrongly)
// and no other thread runs inside a region; a wrong sum would show it.
// Named under rt.objs_avx2_* so that runs on CPUs without AVX2 leave it
// out with the other AVX2 test.
KTEST(rt, objs_avx2_registers_survive_preemption_and_interrupts) {
  if (!objs_impl_available(ObjsImpl::kAvx2)) KTEST_SKIP("no usable AVX2 on this CPU (CPUID.7.0:EBX[5], XSAVE, XCR0)");
  uint32_t cpus = 0;
  for (uint32_t c = 0; c < sched::sched_cpus(); ++c) cpus += sched::cpu_takes_threads(arch::CpuIndex(c));
  constexpr uint32_t kMaxThreads = 2 * 8 + 2;
  const uint32_t n = 2 * cpus + 2 < kMaxThreads ? 2 * cpus + 2 : kMaxThreads;  // more threads than CPUs
  Worker* workers[kMaxThreads];
  sched::Thread* threads[kMaxThreads];
  uint32_t interrupted = 0;
  for (uint32_t i = 0; i < n; ++i) {
    workers[i] = new Worker;
    workers[i]->seed = 0x2545'f491u * (i + 1);
    workers[i]->rounds = kRounds;
    base::Result<sched::Thread*> t = sched::spawn(worker, workers[i], {.name = "avx2"});
    KASSERT_TRUE(t.ok());
    threads[i] = t.value();
  }
  for (uint32_t i = 0; i < n; ++i) {
    sched::join(threads[i]);
    KEXPECT_EQ(workers[i]->wrong.load(MemoryOrder::kRelaxed), 0u);
    interrupted += workers[i]->interrupted.load(MemoryOrder::kRelaxed);
    delete workers[i];
  }
  // Interrupts did land inside regions, with every YMM accumulator live.
  arch::kprint("rt: {} of {} AVX2 rounds took a timer interrupt inside their SimdRegion\n", interrupted, n * kRounds);
  KEXPECT_GT(interrupted, 0u);
}

}  // namespace
}  // namespace rt
