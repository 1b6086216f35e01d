// Sleeping synchronization on futexes: Mutex, Note, Semaphore, CondVar.
// (The spinning, interrupt-disabling lock is arch::SpinLock.) Thread
// context; each panics with a clear message on misuse instead of hanging.
#pragma once

#include "src/arch/percpu.h"
#include "src/base/atomic.h"
#include "src/base/thread_annotations.h"
#include "src/base/types.h"
#include "src/sched/thread.h"
#include "src/sched/timer.h"

namespace sched {

/// This thread's tag in a Mutex word: tid << 1, never 0. One GS-relative
/// load and one load from the descriptor.
inline uint32_t self_lock_tag() { return current()->tid << 1; }

/// A sleeping mutex. The word holds the owner's tag (tid << 1) and bit 0
/// "somebody may be waiting", so the uncontended lock and unlock are one
/// compare-exchange each, and the owner check that catches an unlock by
/// another thread or a recursive lock costs nothing extra. A contended
/// unlock wakes one waiter.
class CAPABILITY("mutex") Mutex {
 public:
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() {
    uint32_t me = self_lock_tag();
    uint32_t expected = 0;
    if (!word_.compare_exchange(expected, me, base::MemoryOrder::kAcquire, base::MemoryOrder::kRelaxed)) lock_slow(me);
  }
  void unlock() RELEASE() {
    uint32_t me = self_lock_tag();
    uint32_t expected = me;
    if (!word_.compare_exchange(expected, 0, base::MemoryOrder::kRelease, base::MemoryOrder::kRelaxed))
      unlock_slow(me, expected);
  }
  bool try_lock() TRY_ACQUIRE(true);
  bool held_by_me() const { return (word_.load(base::MemoryOrder::kRelaxed) & ~1u) == self_lock_tag(); }

 private:
  friend class CondVar;
  void lock_slow(uint32_t me);
  void unlock_slow(uint32_t me, uint32_t seen);
  base::Atomic<uint32_t> word_{0};
};

class SCOPED_CAPABILITY MutexGuard {
 public:
  explicit MutexGuard(Mutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
  ~MutexGuard() RELEASE() { m_.unlock(); }
  MutexGuard(const MutexGuard&) = delete;
  MutexGuard& operator=(const MutexGuard&) = delete;

 private:
  Mutex& m_;
};

/// A one-shot event, as in the Go runtime: clear(), then one wakeup()
/// releases every sleep() (past and future) until the next clear().
class Note {
 public:
  constexpr Note() = default;
  void clear() { key_.store(0, base::MemoryOrder::kRelease); }
  /// A second wakeup() without a clear() in between panics.
  void wakeup();
  void sleep();
  /// true if woken, false if `timeout_ns` passed first.
  bool timed_sleep(uint64_t timeout_ns);
  bool is_set() const { return key_.load(base::MemoryOrder::kAcquire) != 0; }

 private:
  base::Atomic<uint32_t> key_{0};
};

/// A counting semaphore.
class Semaphore {
 public:
  constexpr explicit Semaphore(uint32_t initial = 0) : count_(initial) {}
  void acquire();
  /// false if `timeout_ns` passed without a unit becoming available.
  bool try_acquire_for(uint64_t timeout_ns);
  bool try_acquire();
  void release(uint32_t n = 1);
  uint32_t value() const { return count_.load(base::MemoryOrder::kRelaxed); }

 private:
  base::Atomic<uint32_t> count_;
  base::Atomic<uint32_t> waiters_{0};
};

/// A condition variable for Mutex. Waits may return spuriously (callers
/// loop on their predicate, as with any condition variable).
class CondVar {
 public:
  constexpr CondVar() = default;
  void wait(Mutex& m) REQUIRES(m);
  /// false if `timeout_ns` passed (the mutex is held again either way).
  bool wait_for(Mutex& m, uint64_t timeout_ns) REQUIRES(m);
  void signal();
  void broadcast();

 private:
  base::Atomic<uint32_t> seq_{0};
};

}  // namespace sched
