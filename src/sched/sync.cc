// Slow paths of the futex-based synchronization (see sync.h).
#include "src/sched/sync.h"

#include "src/arch/clock.h"
#include "src/base/assert.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"

namespace sched {

using base::MemoryOrder;

namespace {
constexpr uint32_t kWaiters = 1;  // Mutex word bit 0

uint32_t owner_tid(uint32_t word) { return word >> 1; }
}  // namespace

bool Mutex::try_lock() {
  uint32_t expected = 0;
  return word_.compare_exchange(expected, self_lock_tag(), MemoryOrder::kAcquire, MemoryOrder::kRelaxed);
}

void Mutex::lock_slow(uint32_t me) {
  assert_may_block("Mutex::lock");
  for (;;) {
    uint32_t v = word_.load(MemoryOrder::kRelaxed);
    if (v == 0) {
      // Taken after contention: keep the waiters bit, since others may
      // still sleep (Drepper, "Futexes Are Tricky", mutex2).
      if (word_.compare_exchange(v, me | kWaiters, MemoryOrder::kAcquire, MemoryOrder::kRelaxed)) return;
      continue;
    }
    if ((v & ~kWaiters) == me) PANIC("Mutex {}: recursive lock by thread {}", static_cast<void*>(this), owner_tid(me));
    if ((v & kWaiters) == 0 && !word_.compare_exchange(v, v | kWaiters, MemoryOrder::kRelaxed, MemoryOrder::kRelaxed))
      continue;
    (void)futex_wait(reinterpret_cast<const uint32_t*>(&word_), v | kWaiters);
  }
}

void Mutex::unlock_slow(uint32_t me, uint32_t seen) {
  if ((seen & ~kWaiters) != me) {
    if (seen == 0) PANIC("Mutex {}: unlock of an unlocked mutex by thread {}", static_cast<void*>(this), owner_tid(me));
    PANIC("Mutex {}: unlock by thread {}, but thread {} owns it", static_cast<void*>(this), owner_tid(me),
          owner_tid(seen));
  }
  word_.store(0, MemoryOrder::kRelease);
  (void)futex_wake(reinterpret_cast<const uint32_t*>(&word_), 1);
}

void Note::wakeup() {
  if (key_.exchange(1, MemoryOrder::kRelease) != 0)
    PANIC("Note {}: wakeup twice without clear", static_cast<void*>(this));
  (void)futex_wake(reinterpret_cast<const uint32_t*>(&key_), kFutexAll);
}

void Note::sleep() {
  while (key_.load(MemoryOrder::kAcquire) == 0) (void)futex_wait(reinterpret_cast<const uint32_t*>(&key_), 0);
}

bool Note::timed_sleep(uint64_t timeout_ns) {
  uint64_t deadline = arch::nanotime() + timeout_ns;
  for (;;) {
    if (key_.load(MemoryOrder::kAcquire) != 0) return true;
    uint64_t now = arch::nanotime();
    if (now >= deadline) return false;
    (void)futex_wait(reinterpret_cast<const uint32_t*>(&key_), 0, deadline - now);
  }
}

bool Semaphore::try_acquire() {
  uint32_t v = count_.load(MemoryOrder::kRelaxed);
  while (v > 0)
    if (count_.compare_exchange(v, v - 1, MemoryOrder::kAcquire, MemoryOrder::kRelaxed)) return true;
  return false;
}

void Semaphore::acquire() { (void)try_acquire_for(kNoTimeout); }

bool Semaphore::try_acquire_for(uint64_t timeout_ns) {
  uint64_t deadline = timeout_ns == kNoTimeout ? kNoTimeout : arch::nanotime() + timeout_ns;
  for (;;) {
    if (try_acquire()) return true;
    uint64_t now = arch::nanotime();
    if (deadline != kNoTimeout && now >= deadline) return false;
    // Announce the waiter before the last look, so a release that misses
    // it in waiters_ has already raised count_ where we look (both seq_cst).
    waiters_.fetch_add(1, MemoryOrder::kSeqCst);
    if (count_.load(MemoryOrder::kSeqCst) == 0)
      (void)futex_wait(reinterpret_cast<const uint32_t*>(&count_), 0,
                       deadline == kNoTimeout ? kNoTimeout : deadline - now);
    waiters_.fetch_sub(1, MemoryOrder::kRelaxed);
  }
}

void Semaphore::release(uint32_t n) {
  count_.fetch_add(n, MemoryOrder::kSeqCst);
  if (waiters_.load(MemoryOrder::kSeqCst) != 0) (void)futex_wake(reinterpret_cast<const uint32_t*>(&count_), n);
}

void CondVar::wait(Mutex& m) { (void)wait_for(m, kNoTimeout); }

bool CondVar::wait_for(Mutex& m, uint64_t timeout_ns) {
  uint32_t seq = seq_.load(MemoryOrder::kAcquire);
  m.unlock();
  int r = futex_wait(reinterpret_cast<const uint32_t*>(&seq_), seq, timeout_ns);
  m.lock();
  return r != -kETIMEDOUT;
}

void CondVar::signal() {
  seq_.fetch_add(1, MemoryOrder::kRelease);
  (void)futex_wake(reinterpret_cast<const uint32_t*>(&seq_), 1);
}

void CondVar::broadcast() {
  seq_.fetch_add(1, MemoryOrder::kRelease);
  (void)futex_wake(reinterpret_cast<const uint32_t*>(&seq_), kFutexAll);
}

}  // namespace sched
