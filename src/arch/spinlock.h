// SpinLock: the kernel's interrupt-disabling spinlock — a TicketLock held
// with interrupts off on this CPU (push_cli/pop_cli), so an interrupt
// handler on the same CPU can never spin on a lock its CPU holds. Nests.
// It also records which CPU holds it, for reports of a lock that seems
// stuck (a lock convoy or a lost unlock): one store to the cache line the
// ticket just dirtied, so it stays on in release builds too.
// Thread and interrupt context; never NMI.
#pragma once

#include "src/arch/percpu.h"
#include "src/base/atomic.h"
#include "src/base/thread_annotations.h"
#include "src/base/ticket_lock.h"

namespace arch {

class CAPABILITY("mutex") SpinLock {
 public:
  /// holder_hint() when no CPU holds the lock.
  static constexpr uint32_t kNoHolder = ~uint32_t{0};

  constexpr SpinLock() = default;
  void lock() ACQUIRE() {
    push_cli();
    raw_.lock();
    // Relaxed: a hint for reports, read without the lock.
    holder_.store(this_cpu().index + 1, base::MemoryOrder::kRelaxed);
  }
  void unlock() RELEASE() {
    holder_.store(0, base::MemoryOrder::kRelaxed);
    raw_.unlock();
    pop_cli();
  }
  bool is_locked() const { return raw_.is_locked(); }

  /// The CPU holding the lock, or kNoHolder, as last seen: racy, for
  /// diagnostics only (a lock just taken may not show its holder yet). Any
  /// context, NMI included (two loads).
  uint32_t holder_hint() const {
    const uint32_t h = holder_.load(base::MemoryOrder::kRelaxed);
    return h == 0 ? kNoHolder : h - 1;
  }
  /// CPUs spinning for the lock now (racy, as holder_hint).
  uint32_t waiters_hint() const { return raw_.waiters(); }

 private:
  base::TicketLock<> raw_;
  base::Atomic<uint32_t> holder_{0};  // 1 + the holding CPU's index; 0 when free
};

class SCOPED_CAPABILITY SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& l) ACQUIRE(l) : l_(l) { l_.lock(); }
  ~SpinLockGuard() RELEASE() { l_.unlock(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace arch
