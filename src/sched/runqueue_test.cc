// Tests for the run queues: the behaviours Go's runtime tests check (FIFO,
// steal takes half for every fill level) plus run_next replacement, the
// overflow spill, the 2^32 counter wrap, the global queue's batching, and a
// multi-threaded stress in which every element must run exactly as often as
// it was queued (also meant for -fsanitize=thread).
#include "src/sched/runqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "src/base/host_mutex.h"
#include "src/base/ticket_lock.h"

namespace sched {
namespace {

struct Thread {
  Thread* rq_next = nullptr;
  int id = 0;
  // Plain, not atomic: only whoever dequeued the thread touches it, so the
  // queues' acquire/release must order successive runners (TSan checks).
  int runs = 0;
  int queued_by = -1;  // plain too: written before push, read by the runner
  std::atomic<bool> queued{false};
};

struct YieldRelax {
  static void relax() { std::this_thread::yield(); }
};

constexpr size_t kN = 256;
using Local = LocalRunQueue<Thread, kN>;
// base::HostMutex, not std::mutex: an annotated capability, so the
// GUARDED_BY members of GlobalRunQueue are checked in this build too.
using Global = GlobalRunQueue<Thread, base::HostMutex>;

std::vector<Thread> make_threads(size_t n) {
  std::vector<Thread> v(n);
  for (size_t i = 0; i < n; ++i) v[i].id = static_cast<int>(i);
  return v;
}

// Pops everything from `q`, counting runs per element.
size_t drain(Local& q) {
  size_t n = 0;
  while (Thread* t = q.pop()) {
    ++t->runs;
    ++n;
  }
  return n;
}

// Starting indices for the counters: from zero and just before the 2^32
// wrap, so every single-threaded test also crosses it.
class RunQueueTest : public ::testing::TestWithParam<uint32_t> {};

INSTANTIATE_TEST_SUITE_P(Start, RunQueueTest,
                         ::testing::Values(0u, UINT32_MAX - 3, UINT32_MAX - kN / 2, UINT32_MAX - kN + 1),
                         [](const auto& info) { return "at" + std::to_string(info.index); });

// Go's testSchedLocalQueue: for every fill level, FIFO and empty after.
TEST_P(RunQueueTest, FifoOrder) {
  Local q(GetParam());
  Global g;
  auto ts = make_threads(kN);
  for (size_t i = 0; i <= kN; ++i) {
    ASSERT_EQ(q.pop(), nullptr) << "not empty before round " << i;
    for (size_t j = 0; j < i; ++j) q.push(&ts[j], false, g);
    EXPECT_EQ(q.size(), i);
    for (size_t j = 0; j < i; ++j) {
      Thread* t = q.pop();
      ASSERT_EQ(t, &ts[j]) << "round " << i << " position " << j;
    }
    ASSERT_EQ(q.pop(), nullptr) << "not empty after round " << i;
    ASSERT_EQ(g.size(), 0u) << "a ring with room spilled";
  }
}

TEST_P(RunQueueTest, RunNextFirstThenFifo) {
  Local q(GetParam());
  Global g;
  auto ts = make_threads(4);
  q.push(&ts[0], false, g);
  q.push(&ts[1], false, g);
  q.push(&ts[2], true, g);
  EXPECT_TRUE(q.has_run_next());
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.pop(), &ts[2]);
  EXPECT_FALSE(q.has_run_next());
  EXPECT_EQ(q.pop(), &ts[0]);
  EXPECT_EQ(q.pop(), &ts[1]);
  EXPECT_EQ(q.pop(), nullptr);
}

TEST_P(RunQueueTest, RunNextReplacementKicksToTail) {
  Local q(GetParam());
  Global g;
  auto ts = make_threads(4);
  q.push(&ts[0], false, g);  // ring: 0
  q.push(&ts[1], true, g);   // next: 1
  q.push(&ts[2], true, g);   // next: 2, ring: 0 1
  q.push(&ts[3], false, g);  // ring: 0 1 3
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.pop(), &ts[2]);
  EXPECT_EQ(q.pop(), &ts[0]);
  EXPECT_EQ(q.pop(), &ts[1]) << "the displaced run_next goes to the tail, not the head";
  EXPECT_EQ(q.pop(), &ts[3]);
  EXPECT_EQ(q.pop(), nullptr);
}

TEST_P(RunQueueTest, OverflowMovesHalfPlusOneInOrder) {
  Local q(GetParam());
  Global g;
  auto ts = make_threads(kN + 1);
  for (size_t i = 0; i < kN; ++i) q.push(&ts[i], false, g);
  EXPECT_EQ(g.size(), 0u) << "exactly N fit without spilling";
  EXPECT_EQ(q.free_slots(), 0u);
  q.push(&ts[kN], false, g);
  EXPECT_EQ(g.size(), kN / 2 + 1);
  EXPECT_EQ(q.size(), kN / 2);
  for (size_t i = 0; i < kN / 2; ++i) ASSERT_EQ(g.pop(), &ts[i]) << i;
  EXPECT_EQ(g.pop(), &ts[kN]) << "the new element ends the batch";
  EXPECT_EQ(g.pop(), nullptr);
  for (size_t i = kN / 2; i < kN; ++i) ASSERT_EQ(q.pop(), &ts[i]) << i;
  EXPECT_EQ(q.pop(), nullptr);
}

TEST_P(RunQueueTest, OverflowThroughRunNextSpillsTheDisplacedThread) {
  Local q(GetParam());
  Global g;
  auto ts = make_threads(kN + 2);
  q.push(&ts[kN], true, g);
  for (size_t i = 0; i < kN; ++i) q.push(&ts[i], false, g);
  EXPECT_EQ(g.size(), 0u);
  q.push(&ts[kN + 1], true, g);  // displaces ts[kN] into a full ring
  EXPECT_EQ(g.size(), kN / 2 + 1);
  for (size_t i = 0; i < kN / 2; ++i) ASSERT_EQ(g.pop(), &ts[i]) << i;
  EXPECT_EQ(g.pop(), &ts[kN]);
  EXPECT_EQ(q.pop(), &ts[kN + 1]);
  for (size_t i = kN / 2; i < kN; ++i) ASSERT_EQ(q.pop(), &ts[i]) << i;
  EXPECT_EQ(q.pop(), nullptr);
}

// Go's testSchedLocalQueueSteal, with the exact count: we round up.
TEST_P(RunQueueTest, StealTakesHalfRoundedUpForEveryFillLevel) {
  auto ts = make_threads(kN);
  for (size_t i = 0; i <= kN; ++i) {
    Local victim(GetParam() + static_cast<uint32_t>(i));
    Local thief(GetParam() - static_cast<uint32_t>(i));
    Global g;
    for (auto& t : ts) t.runs = 0;
    for (size_t j = 0; j < i; ++j) victim.push(&ts[j], false, g);
    size_t stolen = 0;
    if (Thread* t = steal_into(victim, &thief)) {
      ++t->runs;
      ++stolen;
    }
    stolen += drain(thief);
    const size_t left = drain(victim);
    ASSERT_EQ(stolen, i - i / 2) << "fill level " << i;
    ASSERT_EQ(stolen + left, i);
    for (size_t j = 0; j < i; ++j) ASSERT_EQ(ts[j].runs, 1) << "element " << j << " level " << i;
    ASSERT_EQ(g.size(), 0u);
  }
}

TEST_P(RunQueueTest, StealKeepsOrder) {
  Local victim(GetParam()), thief(GetParam() + 7);
  Global g;
  auto ts = make_threads(10);
  for (auto& t : ts) victim.push(&t, false, g);
  // Takes 0..4: 4 runs now, 0..3 go to the thief's ring in order.
  EXPECT_EQ(steal_into(victim, &thief), &ts[4]);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(thief.pop(), &ts[i]);
  EXPECT_EQ(thief.pop(), nullptr);
  for (int i = 5; i < 10; ++i) EXPECT_EQ(victim.pop(), &ts[i]);
}

TEST_P(RunQueueTest, StealEdges) {
  Local victim(GetParam()), thief(GetParam());
  Global g;
  auto ts = make_threads(kN);
  EXPECT_EQ(steal_into(victim, &thief), nullptr) << "empty victim";
  EXPECT_EQ(steal_into(victim, &thief, StealRunNext::kYes), nullptr);
  for (auto& t : ts) victim.push(&t, false, g);
  EXPECT_EQ(victim.free_slots(), 0u);
  EXPECT_EQ(steal_into(victim, &thief), &ts[kN / 2 - 1]) << "full victim gives half";
  EXPECT_EQ(thief.size(), kN / 2 - 1);
  EXPECT_EQ(victim.size(), kN / 2);
  EXPECT_EQ(victim.free_slots(), kN / 2);
}

TEST_P(RunQueueTest, StealIsCappedByThiefRoom) {
  Local victim(GetParam()), thief(GetParam() + 100);
  Global g;
  auto ts = make_threads(kN + 100);
  for (size_t i = 0; i < 100; ++i) victim.push(&ts[i], false, g);
  for (size_t i = 100; i < 100 + kN - 3; ++i) thief.push(&ts[i], false, g);
  ASSERT_EQ(thief.free_slots(), 3u);
  EXPECT_EQ(steal_into(victim, &thief), &ts[3]) << "room 3: three to the ring, one to run";
  EXPECT_EQ(thief.free_slots(), 0u);
  EXPECT_EQ(victim.size(), 96u);
  EXPECT_EQ(g.size(), 0u);
  // A full thief still takes one to run.
  EXPECT_EQ(steal_into(victim, &thief), &ts[4]);
  EXPECT_EQ(victim.size(), 95u);
}

TEST_P(RunQueueTest, RunNextIsStolenOnlyFromAnEmptyRingAndOnlyWhenAsked) {
  Local victim(GetParam()), thief(GetParam());
  Global g;
  auto ts = make_threads(2);
  victim.push(&ts[0], true, g);
  EXPECT_EQ(steal_into(victim, &thief), nullptr) << "kNo leaves run_next";
  victim.push(&ts[1], false, g);
  int backoffs = 0;
  auto count = [&] { ++backoffs; };
  EXPECT_EQ(steal_into(victim, &thief, StealRunNext::kYes, count), &ts[1]) << "ring not empty: ring first";
  EXPECT_EQ(backoffs, 0);
  EXPECT_TRUE(victim.has_run_next());
  EXPECT_EQ(steal_into(victim, &thief, StealRunNext::kYes, count), &ts[0]);
  EXPECT_EQ(backoffs, 1);
  EXPECT_FALSE(victim.has_run_next());
  EXPECT_EQ(victim.pop(), nullptr);
}

TEST_P(RunQueueTest, RunNextStealRetriesWhenTheVictimRunsItDuringBackoff) {
  Local victim(GetParam()), thief(GetParam());
  Global g;
  auto ts = make_threads(3);
  victim.push(&ts[0], true, g);
  // During the back-off the victim runs its run_next and queues another
  // thread on its ring: the thief's CAS must fail and it must then take the
  // ring element, not the stale run_next.
  auto victim_runs = [&] {
    EXPECT_EQ(victim.pop(), &ts[0]);
    victim.push(&ts[1], false, g);
  };
  EXPECT_EQ(steal_into(victim, &thief, StealRunNext::kYes, victim_runs), &ts[1]);
  EXPECT_EQ(victim.pop(), nullptr);
}

TEST(GlobalRunQueue, FifoAndBatch) {
  Global g;
  auto ts = make_threads(6);
  EXPECT_EQ(g.pop(), nullptr);
  g.push(&ts[0]);
  ts[1].rq_next = &ts[2];
  ts[2].rq_next = &ts[3];
  ts[3].rq_next = &ts[5];  // overwritten: the batch ends at its last element
  g.push_batch(&ts[1], &ts[3], 3);
  g.push(&ts[4]);
  EXPECT_EQ(g.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g.pop(), &ts[i]);
  EXPECT_EQ(g.pop(), nullptr);
  EXPECT_TRUE(g.empty());
  g.push(&ts[5]);  // reusable after emptying
  EXPECT_EQ(g.pop(), &ts[5]);
}

TEST(GlobalRunQueue, PopBatchSizes) {
  auto ts = make_threads(1000);
  struct Case {
    uint32_t ncpu;
    size_t queued, max, want;
  } cases[] = {
      {1, 0, 0, 0},         {1, 1, 0, 1},
      {1, 10, 0, 10},       {4, 10, 0, 3},  // 10/4 + 1
      {4, 3, 0, 1},         {4, 10, 2, 2},  // capped by max
      {1, 1000, 0, kN / 2},                 // capped by N/2
      {3, 1000, 0, kN / 2}, {8, 1000, 0, 1000 / 8 + 1},
  };
  for (const Case& c : cases) {
    Global g(c.ncpu);
    Local q;
    for (size_t i = 0; i < c.queued; ++i) g.push(&ts[i]);
    Thread* first = g.pop_batch_into(q, c.max);
    const size_t got = (first != nullptr) + q.size();
    EXPECT_EQ(got, c.want) << "ncpu " << c.ncpu << " queued " << c.queued << " max " << c.max;
    EXPECT_EQ(g.size(), c.queued - got);
    if (c.queued > 0) EXPECT_EQ(first, &ts[0]);
    for (size_t i = 1; i < got; ++i) EXPECT_EQ(q.pop(), &ts[i]);
    if (got < c.queued) EXPECT_EQ(g.pop(), &ts[got]) << "the rest stays in order";
  }
}

TEST(GlobalRunQueue, PopBatchRespectsLocalRoomAndNcpuUpdate) {
  auto ts = make_threads(kN + 100);
  Global g;
  Local q;
  for (size_t i = 0; i < kN - 5; ++i) q.push(&ts[i], false, g);
  for (size_t i = kN; i < kN + 100; ++i) g.push(&ts[i]);
  EXPECT_EQ(g.pop_batch_into(q), &ts[kN]);
  EXPECT_EQ(q.free_slots(), 0u);
  EXPECT_EQ(g.size(), 100u - 6);
  g.set_ncpu(47);  // 94 / 47 + 1 = 3
  Local q2;
  EXPECT_EQ(g.pop_batch_into(q2), &ts[kN + 6]);
  EXPECT_EQ(q2.size(), 2u);
}

TEST(GlobalRunQueue, WorksWithStdMutex) {
  GlobalRunQueue<Thread, std::mutex> g;
  auto ts = make_threads(2);
  g.push(&ts[0]);
  g.push(&ts[1]);
  EXPECT_EQ(g.pop(), &ts[0]);
  EXPECT_EQ(g.pop(), &ts[1]);
}

TEST(GlobalRunQueue, WorksWithTicketLock) {
  GlobalRunQueue<Thread, base::TicketLock<YieldRelax>> g;
  auto ts = make_threads(2);
  g.push(&ts[0]);
  g.push(&ts[1]);
  EXPECT_EQ(g.pop(), &ts[0]);
  EXPECT_EQ(g.pop(), &ts[1]);
}

// Small rings hit the full, spill and wrap paths constantly.
TEST(RunQueueSmall, CapacityTwo) {
  LocalRunQueue<Thread, 2> a(UINT32_MAX), b(UINT32_MAX - 1);
  Global g;
  auto ts = make_threads(5);
  a.push(&ts[0], false, g);
  a.push(&ts[1], false, g);
  a.push(&ts[2], false, g);  // spill 0 + 2
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(steal_into(a, &b), &ts[1]);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(a.pop(), nullptr);
  EXPECT_EQ(g.pop_batch_into(a), &ts[0]) << "N/2 = 1: one to run, none to the ring";
  EXPECT_EQ(a.size(), 0u);
}

// ---------------------------------------------------------------------------
// Stress: W workers, each the owner of one LocalRunQueue, sharing a global
// queue. Elements are seeded by worker 0 only, or by all (the brief's "one
// owner and thieves" and a symmetric scheduler), then "run" by whoever
// dequeues them; with `generations` > 1 the runner requeues an element
// (sometimes as run_next) until it has run that many times, so pointers
// reappear in rings and run_next slots (ABA). Each element must be dequeued
// only while queued (the `queued` flag catches a duplicate at once) and run
// exactly `generations` times in the end (catches loss).

struct StressConfig {
  int workers;
  bool only_worker0_seeds;
  int generations;
  size_t elements;
};

template <size_t N>
void stress(const StressConfig& cfg) {
  using Q = LocalRunQueue<Thread, N>;
  Global g(static_cast<uint32_t>(cfg.workers));
  std::vector<std::unique_ptr<Q>> qs;
  for (int i = 0; i < cfg.workers; ++i) {
    // Start near the wrap so the counters cross it during the run.
    qs.push_back(std::make_unique<Q>(UINT32_MAX - 1000 * static_cast<uint32_t>(i)));
  }
  std::vector<Thread> ts(cfg.elements);
  for (size_t i = 0; i < ts.size(); ++i) ts[i].id = static_cast<int>(i);
  const size_t total_runs = cfg.elements * static_cast<size_t>(cfg.generations);
  std::atomic<size_t> runs{0};
  std::atomic<size_t> duplicates{0}, overruns{0}, bad_queuer{0};
  std::atomic<size_t> steals{0}, global_batches{0};
  // Set by the watchdog below: a lost element would otherwise spin forever.
  std::atomic<bool> stalled{false};

  auto worker = [&](int self) {
    std::mt19937 rng(12345 + self);
    Q& own = *qs[self];
    size_t seed_next, seed_end;
    if (cfg.only_worker0_seeds) {
      seed_next = 0;
      seed_end = self == 0 ? ts.size() : 0;
    } else {
      seed_next = ts.size() * self / cfg.workers;
      seed_end = ts.size() * (self + 1) / cfg.workers;
    }
    auto seed = [&](Thread* t, bool as_next) {
      t->queued_by = self;
      t->queued.store(true, std::memory_order_relaxed);
      own.push(t, as_next, g);
    };
    auto run = [&](Thread* t) {
      // Relaxed is enough: the queues' own ordering is what is under test;
      // the flag's exchange is an RMW, so a duplicate dequeue sees false.
      if (!t->queued.exchange(false, std::memory_order_relaxed)) duplicates.fetch_add(1);
      if (t->queued_by < 0 || t->queued_by >= cfg.workers) bad_queuer.fetch_add(1);
      const int gen = ++t->runs;
      if (gen > cfg.generations) overruns.fetch_add(1);
      runs.fetch_add(1, std::memory_order_relaxed);
      if (gen < cfg.generations) seed(t, rng() % 3 == 0);
    };
    while (runs.load(std::memory_order_relaxed) < total_runs && !stalled.load(std::memory_order_relaxed)) {
      // Seed in bursts, sometimes larger than the ring, to force spills.
      if (seed_next < seed_end && rng() % 4 == 0) {
        size_t burst = rng() % (N + N / 2) + 1;
        for (; burst > 0 && seed_next < seed_end; --burst) seed(&ts[seed_next++], rng() % 8 == 0);
      }
      Thread* t = own.pop();
      if (t == nullptr && rng() % 2 == 0) {
        t = g.pop_batch_into(own);
        if (t != nullptr) global_batches.fetch_add(1, std::memory_order_relaxed);
      }
      if (t == nullptr) {
        int victim = static_cast<int>(rng() % (cfg.workers - 1));
        if (victim >= self) ++victim;
        const auto rn = rng() % 2 == 0 ? StealRunNext::kYes : StealRunNext::kNo;
        t = steal_into(*qs[victim], &own, rn, [] { std::this_thread::yield(); });
        if (t != nullptr) steals.fetch_add(1, std::memory_order_relaxed);
      }
      if (t == nullptr) t = g.pop();
      if (t != nullptr) {
        run(t);
        // The owner pops only part of the time so thieves find work.
        if (self == 0 && rng() % 2 == 0) std::this_thread::yield();
      } else if (seed_next >= seed_end) {
        std::this_thread::yield();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < cfg.workers; ++i) threads.emplace_back(worker, i);
  // Watchdog: fail (rather than hang) if no element runs for two seconds.
  size_t last = SIZE_MAX;
  auto last_change = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const size_t now = runs.load(std::memory_order_relaxed);
    if (now == total_runs) break;
    if (now != last) {
      last = now;
      last_change = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_change > std::chrono::seconds(2)) {
      stalled.store(true, std::memory_order_relaxed);
      break;
    }
  }
  for (auto& th : threads) th.join();

  EXPECT_FALSE(stalled.load()) << "no progress: elements lost (ran " << runs.load() << " of " << total_runs << ")";
  EXPECT_EQ(duplicates.load(), 0u) << "an element was dequeued while not queued";
  EXPECT_EQ(overruns.load(), 0u);
  EXPECT_EQ(bad_queuer.load(), 0u);
  EXPECT_EQ(runs.load(), total_runs);
  size_t wrong = 0;
  for (const Thread& t : ts) {
    if (t.runs != cfg.generations) {
      if (++wrong <= 5) ADD_FAILURE() << "element " << t.id << " ran " << t.runs << " times";
    }
  }
  EXPECT_EQ(wrong, 0u);
  for (auto& q : qs) EXPECT_EQ(q->pop(), nullptr) << "left over after all runs";
  EXPECT_EQ(g.pop(), nullptr);
  EXPECT_GT(steals.load(), 0u) << "the stress never exercised stealing";
  ::testing::Test::RecordProperty("steals", static_cast<int>(steals.load()));
  ::testing::Test::RecordProperty("global_batches", static_cast<int>(global_batches.load()));
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RQ_TSAN 1
#endif
#endif
#ifdef RQ_TSAN
constexpr size_t kScale = 8;  // TSan is several times slower; keep the run near a second
#else
constexpr size_t kScale = 32;
#endif

TEST(RunQueueStress, OneOwnerThreeThieves) { stress<256>({4, true, 1, 50'000 * kScale}); }

TEST(RunQueueStress, OneOwnerThreeThievesSmallRing) { stress<8>({4, true, 1, 10'000 * kScale}); }

TEST(RunQueueStress, SymmetricWithRequeue) { stress<256>({4, false, 4, 20'000 * kScale}); }

TEST(RunQueueStress, SymmetricWithRequeueSmallRing) { stress<4>({3, false, 4, 10'000 * kScale}); }

}  // namespace
}  // namespace sched
