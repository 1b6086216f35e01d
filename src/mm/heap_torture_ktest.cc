// The heap torture: a run on every CPU with cross-CPU frees (through
// sched::run_on, so in mm's test library that may use the scheduler,
// mm_sched_ktests); the heap's other tests are in heap_ktest.cc.
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/ktest/fill_pattern.h"
#include "src/ktest/ktest.h"
#include "src/ktest/require.h"
#include "src/mm/kmalloc.h"
#include "src/sched/run_on.h"
#include "src/sched/thread.h"

namespace mm {
namespace {

using base::MemoryOrder;

uint64_t live_objects() {
  mm::KernelHeapStats s = mm::heap_stats();
  return s.heap.small_live_objects + s.heap.large_live_objects + s.huge_live_objects;
}

// The torture: every CPU allocates random sizes, fills them with a pattern,
// swaps objects through shared slots (so most frees happen on another CPU
// than the allocation) and checks every pattern before freeing.
constexpr size_t kSlots = 512;
struct Torture {
  base::Atomic<uint64_t> slots[kSlots];  // pointer | index into sizes[]
  base::Atomic<uint32_t> corrupted{0};
  base::Atomic<uint32_t> oom{0};
  uint32_t rounds;
};
// Objects are 16-byte aligned at least: the size class index fits below.
// Every size's class is a multiple of 16, so objects are 16-byte aligned.
constinit size_t sizes[] = {16, 32, 64, 112, 256, 640, 1024, 2048, 4000, 12'000};

void torture_worker(void* arg) {
  auto* t = static_cast<Torture*>(arg);
  uint64_t rng = arch::rdtsc() | 1;
  for (uint32_t i = 0; i < t->rounds; ++i) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    const unsigned k = static_cast<unsigned>(rng % (sizeof(sizes) / sizeof(sizes[0])));
    const size_t n = sizes[k];
    void* p = mm::kmalloc(n);
    if (p == nullptr) {
      t->oom.fetch_add(1, MemoryOrder::kRelaxed);
      continue;
    }
    ktest::fill_pattern(p, n);
    // Pointer and size class index share one word: the low 4 bits are zero.
    uint64_t mine = reinterpret_cast<uint64_t>(p) | k;
    uint64_t old = t->slots[(rng >> 20) % kSlots].exchange(mine, MemoryOrder::kAcqRel);
    if (old != 0) {
      void* q = reinterpret_cast<void*>(old & ~uint64_t{15});
      if (!ktest::pattern_intact(q, sizes[old & 15])) t->corrupted.fetch_add(1, MemoryOrder::kRelaxed);
      mm::kfree(q);
    }
  }
}

KTEST(heap, torture_on_every_cpu_ends_without_leaks) {
  // 512 slots of up to 12,000 bytes live at once (about 1 MiB on average)
  // plus what the per-CPU caches hold: it counts allocation failures as
  // errors, so it needs room for them.
  KTEST_REQUIRE_MEMORY(uint64_t{4} << 20);
  static Torture t;
  for (auto& s : t.slots) s.store(0, MemoryOrder::kRelaxed);
  t.corrupted.store(0, MemoryOrder::kRelaxed);
  t.oom.store(0, MemoryOrder::kRelaxed);
  t.rounds = 20'000;
  // sched::run_on runs the workers in threads, whose descriptors are kept for
  // reuse (type-stable, src/sched/thread.h) and so stay live heap objects:
  // they are not the heap's leaks, so they are not counted.
  auto heap_objects = [] { return live_objects() - sched::thread_descriptors(); };
  const uint64_t before = heap_objects();
  for (uint32_t c = 1; c < arch::cpus_online(); ++c)
    KASSERT_TRUE(sched::run_on(arch::CpuIndex(c), torture_worker, &t).ok());
  torture_worker(&t);
  for (uint32_t c = 1; c < arch::cpus_online(); ++c) sched::run_on_wait(arch::CpuIndex(c));
  for (auto& s : t.slots) {
    uint64_t v = s.exchange(0, MemoryOrder::kAcqRel);
    if (v == 0) continue;
    void* q = reinterpret_cast<void*>(v & ~uint64_t{15});
    if (!ktest::pattern_intact(q, sizes[v & 15])) t.corrupted.fetch_add(1, MemoryOrder::kRelaxed);
    mm::kfree(q);
  }
  KEXPECT_EQ(t.corrupted.load(MemoryOrder::kRelaxed), 0u);
  KEXPECT_EQ(t.oom.load(MemoryOrder::kRelaxed), 0u);
  KEXPECT_EQ(heap_objects(), before);
}

}  // namespace
}  // namespace mm
