// SpinLock: the kernel's interrupt-disabling spinlock — a TicketLock held
// with interrupts off on this CPU (push_cli/pop_cli), so an interrupt
// handler on the same CPU can never spin on a lock its CPU holds. Nests.
// Thread and interrupt context; never NMI.
#pragma once

#include "src/arch/percpu.h"
#include "src/base/thread_annotations.h"
#include "src/base/ticket_lock.h"

namespace arch {

class CAPABILITY("mutex") SpinLock {
 public:
  constexpr SpinLock() = default;
  void lock() ACQUIRE() {
    push_cli();
    raw_.lock();
  }
  void unlock() RELEASE() {
    raw_.unlock();
    pop_cli();
  }
  bool is_locked() const { return raw_.is_locked(); }

 private:
  base::TicketLock<> raw_;
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
