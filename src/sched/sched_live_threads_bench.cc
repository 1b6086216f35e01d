// Spawn+join with 10,000 live threads (`bench=sched.spawn_join_with_*`,
// issue 17 item 6, "scale"): the same loop as spawn_join_empty_thread
// (sched_bench.cc), measured while 10,000 other threads sit blocked in
// futex_wait. Its figure holding that one's says that nothing on the
// spawn, exit, reap or join path walks the live threads (the thread list,
// the descriptor free list, the stack cache): an O(n) step there would add
// thousands of instructions per spawn here. Blocked rather than runnable
// threads, so that the figure is not yield_10000_threads's run queue again
// and every instruction measured is the spawn+join's own.
#include "src/arch/smp_boot.h"
#include "src/base/atomic.h"
#include "src/ktest/bench.h"
#include "src/ktest/memory_need.h"
#include "src/ktest/pin_to.h"
#include "src/mm/kernel_vm.h"
#include "src/mm/kmalloc.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

using base::MemoryOrder;

constexpr uint32_t kLiveThreads = 10'000;
// Each sleeper holds a descriptor, a kMinStackSize stack and its
// bookkeeping: well under 4 KiB more than the stack (yield_10000_threads
// runs the same 10,000 in the 128 MiB boot), so 8 KiB a thread with the
// rest of the kernel's needs beside it is a bound that never skips a boot
// that could run it by much.
constexpr uint64_t kMemoryNeed = uint64_t{kLiveThreads} * 8 * 1024;

struct Sleepers {
  uint32_t release = 0;  // futex word: 1 lets them go
  base::Atomic<uint32_t> waiting{0};
};

void sleeper(void* p) {
  auto* s = static_cast<Sleepers*>(p);
  s->waiting.fetch_add(1, MemoryOrder::kRelease);
  while (__atomic_load_n(&s->release, __ATOMIC_ACQUIRE) == 0) (void)sched::futex_wait(&s->release, 0);
}

void empty_thread(void*) {}

BENCH_N(sched, spawn_join_with_10000_live_threads, 1000) {
  // Static: run.skip keeps the pointer until the runner prints it.
  static char why[100];
  if (ktest::memory_shortfall(mm::usable_memory().bytes, kMemoryNeed, why, sizeof why)) return run.skip(why);
  ktest::PinTo pin(arch::CpuIndex(0));
  const size_t threads_before = sched::thread_count();
  Sleepers s;
  // An array of pointers: sizeof(Thread*) is meant.
  auto** threads =
      static_cast<Thread**>(mm::kmalloc(kLiveThreads * sizeof(Thread*)));  // NOLINT(bugprone-sizeof-expression)
  ASSERT_MSG(threads != nullptr, "bench: no memory for {} thread pointers", kLiveThreads);
  for (uint32_t i = 0; i < kLiveThreads; ++i) {
    base::Result<Thread*> t = sched::spawn(
        sleeper, &s,
        {.name = "sleeper", .affinity = sched::Affinity::only(arch::CpuIndex(0)), .stack_size = sched::kMinStackSize});
    ASSERT_MSG(t.ok(), "bench: spawn {} of {}: {}", i, kLiveThreads, base::error_name(t.error()));
    threads[i] = t.value();
  }
  // Every sleeper blocked (or about to: the last may still be between its
  // count and the wait, which this CPU's next switch settles).
  while (s.waiting.load(MemoryOrder::kAcquire) < kLiveThreads) sched::yield();
  sched::yield();
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    base::Result<Thread*> t =
        sched::spawn(empty_thread, nullptr, {.name = "empty", .affinity = sched::Affinity::only(arch::CpuIndex(0))});
    ASSERT_MSG(t.ok(), "bench: spawn: {}", base::error_name(t.error()));
    sched::join(t.value());
  }
  run.stop();
  __atomic_store_n(&s.release, 1, __ATOMIC_RELEASE);
  (void)sched::futex_wake(&s.release, sched::kFutexAll);
  for (uint32_t i = 0; i < kLiveThreads; ++i) sched::join(threads[i]);
  mm::kfree(threads);
  // Nothing of the 10,000 outlives the benchmark.
  ASSERT_MSG(sched::thread_count() == threads_before, "bench: {} threads before, {} after", threads_before,
             sched::thread_count());
}

}  // namespace
}  // namespace sched
