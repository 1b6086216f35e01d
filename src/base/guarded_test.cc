#include "src/base/guarded.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "src/base/host_mutex.h"
#include "src/base/lock_guard.h"

namespace {

struct Counters {
  long a = 0;
  long b = 0;  // always equal to a outside a hold
};

using GuardedCounters = base::Guarded<Counters, base::HostMutex>;

// Whether another thread could take `m` right now (taken and given back).
bool free_elsewhere(base::HostMutex& m) {
  bool got = false;
  std::thread([&] {
    if (!m.try_lock()) return;
    m.unlock();
    got = true;
  }).join();
  return got;
}

// Both fields move together under the lock: a reader never sees them apart.
TEST(Guarded, WithKeepsTheValueConsistentUnderContention) {
  GuardedCounters c;
  constexpr int kThreads = 4, kIters = 20000;
  std::vector<std::thread> threads;
  long torn = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        if (t == 0) {
          c.with([&](Counters& v) { torn += v.a != v.b; });
        } else {
          c.with([](Counters& v) {
            ++v.a;
            ++v.b;
          });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(c.with([](Counters& v) { return v.a; }), long{kThreads - 1} * kIters);
}

TEST(Guarded, LockedHoldReachesTheValue) {
  GuardedCounters c(Counters{3, 4});
  {
    GuardedCounters::Locked v(c);
    EXPECT_EQ(v->a, 3);
    (*v).b = 7;
  }
  EXPECT_EQ(c.with([](Counters& v) { return v.b; }), 7);
}

// A helper that needs the lock says so; its caller holds it through lock().
long sum(GuardedCounters& c) REQUIRES(c.lock()) { return c.get().a + c.get().b; }

TEST(Guarded, GetUnderAGuardOfLock) {
  GuardedCounters c(Counters{1, 2});
  base::LockGuard<base::HostMutex> g(c.lock());
  EXPECT_EQ(sum(c), 3);
}

// The lock is really taken: a second thread's try_lock fails while held.
TEST(Guarded, HoldExcludesOthers) {
  GuardedCounters c;
  GuardedCounters::Locked v(c);
  EXPECT_FALSE(free_elsewhere(c.lock()));
}

// LockGuard may drop the lock mid-scope and take it back.
TEST(LockGuard, UnlockAndRelock) {
  base::HostMutex m;
  base::LockGuard<base::HostMutex> g(m);
  g.unlock();
  EXPECT_TRUE(free_elsewhere(m));
  g.lock();
  EXPECT_FALSE(free_elsewhere(m));
}

}  // namespace
