#include "src/base/ticket_lock.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

struct YieldRelax {
  static void relax() { std::this_thread::yield(); }
};

TEST(TicketLock, MutualExclusionUnderContention) {
  base::TicketLock<YieldRelax> lock;
  long counter = 0;  // deliberately non-atomic: only the lock protects it
  constexpr int kThreads = 4, kIters = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        lock.lock();
        long v = counter;
        counter = v + 1;
        lock.unlock();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, long{kThreads} * kIters);
  EXPECT_FALSE(lock.is_locked());
}

// The analysis cannot follow try_lock results through EXPECT macros.
void try_lock_sequence() NO_THREAD_SAFETY_ANALYSIS {
  base::TicketLock<YieldRelax> lock;
  EXPECT_TRUE(lock.try_lock());
  EXPECT_TRUE(lock.is_locked());
  EXPECT_FALSE(lock.try_lock());
  lock.unlock();
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

TEST(TicketLock, TryLock) { try_lock_sequence(); }

// waiters() counts the tickets queued behind the holder: none when free or
// only held, one per thread spinning.
void waiters_sequence() NO_THREAD_SAFETY_ANALYSIS {
  base::TicketLock<YieldRelax> lock;
  EXPECT_EQ(lock.waiters(), 0u);
  lock.lock();
  EXPECT_EQ(lock.waiters(), 0u);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      lock.lock();
      lock.unlock();
    });
  }
  while (lock.waiters() != 2) std::this_thread::yield();
  lock.unlock();
  for (auto& t : threads) t.join();
  EXPECT_EQ(lock.waiters(), 0u);
  EXPECT_FALSE(lock.is_locked());
}

TEST(TicketLock, WaitersCountsTheQueueBehindTheHolder) { waiters_sequence(); }

TEST(Atomic, Operations) {
  base::Atomic<uint64_t> a{5};
  using base::MemoryOrder;
  EXPECT_EQ(a.fetch_add(3, MemoryOrder::kRelaxed), 5u);
  EXPECT_EQ(a.exchange(1, MemoryOrder::kAcqRel), 8u);
  uint64_t expected = 2;
  EXPECT_FALSE(a.compare_exchange(expected, 9, MemoryOrder::kAcqRel, MemoryOrder::kRelaxed));
  EXPECT_EQ(expected, 1u);
  EXPECT_TRUE(a.compare_exchange(expected, 9, MemoryOrder::kAcqRel, MemoryOrder::kRelaxed));
  EXPECT_EQ(a.load(MemoryOrder::kSeqCst), 9u);
  EXPECT_EQ(a.fetch_or(0x10, MemoryOrder::kRelaxed), 9u);
  EXPECT_EQ(a.fetch_and(0x10, MemoryOrder::kRelaxed), 0x19u);
}

}  // namespace
