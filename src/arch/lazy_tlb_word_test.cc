#include "src/arch/lazy_tlb_word.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

namespace arch {
namespace {

TEST(LazyTlbWord, AnAwakeCpuIsInterrupted) {
  LazyTlbWord w;
  EXPECT_FALSE(w.lazy());
  EXPECT_FALSE(w.skip());
  EXPECT_FALSE(w.exit());  // nothing to flush
  EXPECT_EQ(w.generation(), 0u);
}

TEST(LazyTlbWord, AnIdleCpuIsSkippedAndFlushesOnceWhenItWakes) {
  LazyTlbWord w;
  w.enter();
  EXPECT_TRUE(w.lazy());
  EXPECT_TRUE(w.skip());
  EXPECT_TRUE(w.skip());  // a second shootdown in the same idle period
  EXPECT_EQ(w.generation(), 1u);
  EXPECT_TRUE(w.exit());
  EXPECT_FALSE(w.lazy());
  w.flushed();
  EXPECT_FALSE(w.exit());  // the idle loop's exit after the interrupt's
  EXPECT_FALSE(w.skip());  // awake again
  EXPECT_EQ(w.generation(), 1u);
}

TEST(LazyTlbWord, AnIdlePeriodNoShootdownMissedEndsWithoutAFlush) {
  LazyTlbWord w;
  w.enter();
  EXPECT_FALSE(w.exit());
  EXPECT_FALSE(w.lazy());
  EXPECT_EQ(w.generation(), 0u);
}

TEST(LazyTlbWord, TheGenerationCountsIdlePeriodsThatMissedAShootdown) {
  LazyTlbWord w;
  for (int i = 0; i < 5; ++i) {
    w.enter();
    EXPECT_TRUE(w.skip());
    EXPECT_TRUE(w.exit());
    w.flushed();
    w.enter();  // a quiet period in between
    EXPECT_FALSE(w.exit());
  }
  EXPECT_EQ(w.generation(), 5u);
}

// An NMI between the interrupt's exit() and its flush must flush too: the
// interrupted flush has not happened yet when the NMI's handler runs.
TEST(LazyTlbWord, AnExitInterruptedBeforeItsFlushFlushesAgain) {
  LazyTlbWord w;
  w.enter();
  EXPECT_TRUE(w.skip());
  EXPECT_TRUE(w.exit());   // the interrupt's; then an NMI arrives
  EXPECT_TRUE(w.exit());   // the NMI's: still owed
  EXPECT_FALSE(w.skip());  // awake: shooters interrupt it meanwhile
  w.flushed();             // the NMI's flush
  w.flushed();             // the interrupted one's, redundant
  EXPECT_FALSE(w.exit());
}

// A model of the kernel's use: one "page-table entry" whose value is a
// version, CPUs that cache it in a "TLB" and go idle and wake at random,
// and a shooter that changes it, shoots down (an IPI is a mailbox flag the
// target answers, halted or not), and then publishes the version every CPU
// must see from now on. A CPU that uses a version older than the one
// published before its use is a stale translation.
template <typename Word>
class Machine {
 public:
  explicit Machine(int cpus) : cpus_(cpus) {}

  // CPU i: a use of the mapping (a read in a thread or a handler).
  void use(int i) {
    Cpu& c = cpus_[i];
    const uint64_t must = committed_.load(std::memory_order_acquire);
    if (c.tlb == 0) c.tlb = pte_.load(std::memory_order_relaxed);  // the walk
    if (c.tlb < must) stale_.fetch_add(1, std::memory_order_relaxed);
    uses_.fetch_add(1, std::memory_order_relaxed);
  }
  // CPU i: interrupt entry (an IPI, a timer tick, an NMI), then the
  // shootdown handler's part.
  void interrupt(int i) {
    Cpu& c = cpus_[i];
    if (c.word.exit()) {
      c.tlb = 0;  // the full flush
      c.word.flushed();
    }
    if (c.pending.load(std::memory_order_acquire) != 0) {
      c.tlb = 0;  // INVLPG
      c.pending.store(0, std::memory_order_release);
    }
  }
  void go_idle(int i) { cpus_[i].word.enter(); }
  // The shooter: one remap, then the shootdown, then the version is final.
  void remap(uint64_t version) {
    pte_.store(version, std::memory_order_relaxed);  // a plain store, as a PTE write
    LazyTlbWord::order_before_scan();
    for (Cpu& c : cpus_) {
      if (c.word.skip()) {
        skipped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      c.pending.store(1, std::memory_order_release);
      interrupted_.fetch_add(1, std::memory_order_relaxed);
    }
    for (Cpu& c : cpus_)
      while (c.pending.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    committed_.store(version, std::memory_order_release);
  }
  bool pending(int i) const { return cpus_[i].pending.load(std::memory_order_acquire) != 0; }

  uint64_t stale() const { return stale_.load(); }
  uint64_t uses() const { return uses_.load(); }
  uint64_t skipped() const { return skipped_.load(); }
  uint64_t interrupted() const { return interrupted_.load(); }

 private:
  struct Cpu {
    Word word;
    std::atomic<uint32_t> pending{0};
    uint64_t tlb = 0;  // 0: no entry; this CPU's only
  };
  std::vector<Cpu> cpus_;
  std::atomic<uint64_t> pte_{1};
  std::atomic<uint64_t> committed_{1};
  std::atomic<uint64_t> stale_{0}, uses_{0}, skipped_{0}, interrupted_{0};
};

// A wrong protocol, to show the model catches one: it skips idle CPUs but
// never makes them flush.
class NeverFlushes {
 public:
  void enter() { w_.enter(); }
  bool exit() {
    (void)w_.exit();
    return false;
  }
  void flushed() { w_.flushed(); }
  bool skip() { return w_.skip(); }

 private:
  LazyTlbWord w_;
};

TEST(LazyTlbModel, ACpuThatWakesAfterAMissedRemapSeesTheNewVersion) {
  Machine<LazyTlbWord> m(1);
  m.use(0);  // cached version 1
  m.go_idle(0);
  m.remap(2);  // skipped: no interrupt needed
  EXPECT_EQ(m.skipped(), 1u);
  m.interrupt(0);  // wakes
  m.use(0);
  EXPECT_EQ(m.stale(), 0u);
}

TEST(LazyTlbModel, TheModelCatchesAProtocolThatSkipsWithoutFlushing) {
  Machine<NeverFlushes> m(1);
  m.use(0);
  m.go_idle(0);
  m.remap(2);
  m.interrupt(0);
  m.use(0);
  EXPECT_EQ(m.stale(), 1u);
}

// The race itself: CPUs going idle and waking at random (by their own
// "timer" or by a shootdown's IPI), using the mapping while awake and in
// handlers, while one shooter remaps as fast as it can.
template <typename Word>
void torture(Machine<Word>& m, int cpus, uint64_t remaps) {
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < cpus; ++i) {
    threads.emplace_back([&m, &done, i] {
      std::minstd_rand rng(static_cast<uint32_t>(i) + 1);
      while (!done.load(std::memory_order_acquire)) {
        // Awake: run "threads" that use the mapping, taking interrupts.
        for (int k = static_cast<int>(rng() % 32); k >= 0; --k) {
          m.interrupt(i);
          m.use(i);
          std::this_thread::yield();
        }
        // Idle: lazy, halted until an IPI or the CPU's own timer.
        m.go_idle(i);
        for (uint32_t spins = rng() % 64; spins != 0 && !m.pending(i); --spins) std::this_thread::yield();
        m.interrupt(i);
        if (rng() % 2 == 0) m.use(i);  // the handler uses it (a timer's callback)
        m.interrupt(i);                // the idle loop's exit, then the loop picks a thread
      }
    });
  }
  // At least `remaps` remaps, and on until the CPUs have used the mapping
  // as often (the threads start late): the shooter yields between remaps so
  // that idle periods begin and end between them too.
  for (uint64_t v = 2; v < remaps + 2 || m.uses() < remaps; ++v) {
    m.remap(v);
    std::this_thread::yield();
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
}

TEST(LazyTlbModel, NoStaleTranslationWithCpusIdlingAndWakingAtRandom) {
  constexpr int kCpus = 3;
  Machine<LazyTlbWord> m(kCpus);
  torture(m, kCpus, 20000);
  EXPECT_EQ(m.stale(), 0u) << "of " << m.uses() << " uses";
  // Both paths ran, or the test proved nothing.
  EXPECT_GT(m.skipped(), 0u);
  EXPECT_GT(m.interrupted(), 0u);
  EXPECT_GT(m.uses(), 0u);
  printf("%lu uses, %lu CPUs skipped, %lu interrupted\n", static_cast<unsigned long>(m.uses()),
         static_cast<unsigned long>(m.skipped()), static_cast<unsigned long>(m.interrupted()));
}

// The same race with the wrong protocol: the torture must see it.
TEST(LazyTlbModel, TheTortureCatchesAProtocolThatSkipsWithoutFlushing) {
  constexpr int kCpus = 3;
  Machine<NeverFlushes> m(kCpus);
  torture(m, kCpus, 20000);
  EXPECT_GT(m.stale(), 0u) << "of " << m.uses() << " uses";
}

}  // namespace
}  // namespace arch
