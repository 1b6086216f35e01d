// The kernel's interrupt-disabling spinlocks: a TicketLock held with
// interrupts off on this CPU, so an interrupt handler on the same CPU can
// never spin on a lock its CPU holds. One family, two ways of turning
// interrupts off:
//   SpinLock     push_cli/pop_cli: nests, and counts its depth, which the
//                scheduler checks (no blocking with a SpinLock held).
//   IrqSpinLock  the holder's RFLAGS saved in the lock and restored at
//                unlock (irq_save/irq_restore): no count, a few instructions
//                cheaper, for hot leaf locks held across nothing that could
//                block or check the count (the futex buckets, the kernel
//                page table). A SpinLock taken inside one still nests:
//                push_cli finds interrupts already off.
// Both are thread-safety capabilities; hold them with SpinLockGuard or
// base::LockGuard. Thread and interrupt context; never NMI.
#pragma once

#include "src/arch/percpu.h"
#include "src/arch/x86.h"
#include "src/base/lock_guard.h"
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

class CAPABILITY("mutex") IrqSpinLock {
 public:
  constexpr IrqSpinLock() = default;
  void lock() ACQUIRE() {
    const uint64_t flags = irq_save();
    raw_.lock();
    // Stored only once held: flags_ belongs to the holder.
    flags_ = flags;
  }
  void unlock() RELEASE() {
    const uint64_t flags = flags_;
    raw_.unlock();
    irq_restore(flags);
  }
  bool is_locked() const { return raw_.is_locked(); }

 private:
  base::TicketLock<> raw_;
  uint64_t flags_ = 0;
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

using IrqSpinLockGuard = base::LockGuard<IrqSpinLock>;

}  // namespace arch
