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
// SpinLock also records which CPU holds it, for reports of a lock that
// seems stuck (a lock convoy or a lost unlock): one store to the cache line
// the ticket just dirtied, so it stays on in release builds too.
// Both are thread-safety capabilities; hold them with SpinLockGuard and
// IrqSpinLockGuard (or base::LockGuard), or a SpinLock taken inside
// another's critical section with lock_nested/unlock_nested (no guard:
// the analysis would take a guard's REQUIRES(outer) as managing `outer`). Thread and interrupt context;
// never NMI.
#pragma once

#include "src/arch/percpu.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/base/lock_guard.h"
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
    holder_.store(this_cpu().index.value + 1, base::MemoryOrder::kRelaxed);
  }
  void unlock() RELEASE() {
    holder_.store(0, base::MemoryOrder::kRelaxed);
    raw_.unlock();
    pop_cli();
  }
  bool is_locked() const { return raw_.is_locked(); }

  /// lock() inside `outer`'s critical section, which the analysis checks
  /// is held: interrupts are then off and the push_cli depth already
  /// counts a held SpinLock, so lock()'s push_cli/pop_cli pair would save
  /// and restore a flag it cannot change (some 20 instructions a round
  /// trip). Nothing goes unchecked: the no-blocking check sees `outer`'s
  /// depth, and `outer`'s pop_cli still checks that interrupts stayed off
  /// throughout, this section included.
  void lock_nested(const SpinLock& outer) ACQUIRE() REQUIRES(outer) {
    raw_.lock();
    holder_.store(this_cpu().index.value + 1, base::MemoryOrder::kRelaxed);
  }
  void unlock_nested(const SpinLock& outer) RELEASE() REQUIRES(outer) {
    holder_.store(0, base::MemoryOrder::kRelaxed);
    raw_.unlock();
  }

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

class CAPABILITY("mutex") IrqSpinLock {
 public:
  constexpr IrqSpinLock() = default;

  /// BasicLockable, for code templated on its lock (the futex table): the
  /// holder's flags are kept in the lock until unlock().
  void lock() ACQUIRE() {
    const uint64_t flags = lock_save();
    // Stored only once held: flags_ belongs to the holder.
    flags_ = flags;
  }
  void unlock() RELEASE() { unlock_restore(flags_); }

  /// The same with the flags in the caller's hands (IrqSpinLockGuard keeps
  /// them in its frame: no store to and load from the lock's cache line,
  /// which a map+unmap pays twice).
  [[nodiscard]] uint64_t lock_save() ACQUIRE() {
    const uint64_t flags = irq_save();
    raw_.lock();
    return flags;
  }
  void unlock_restore(uint64_t flags) RELEASE() {
    raw_.unlock();
    irq_restore(flags);
  }

  bool is_locked() const { return raw_.is_locked(); }

 private:
  base::TicketLock<> raw_;
  uint64_t flags_ = 0;
};

/// A scoped hold of an IrqSpinLock with the saved flags in the guard. It
/// may drop the lock mid-scope (a shootdown must not be sent while holding
/// the page-table lock) and take it back.
class SCOPED_CAPABILITY IrqSpinLockGuard {
 public:
  explicit IrqSpinLockGuard(IrqSpinLock& l) ACQUIRE(l) : l_(l), flags_(l.lock_save()) {}
  ~IrqSpinLockGuard() RELEASE() {
    if (held_) l_.unlock_restore(flags_);
  }
  IrqSpinLockGuard(const IrqSpinLockGuard&) = delete;
  IrqSpinLockGuard& operator=(const IrqSpinLockGuard&) = delete;

  void unlock() RELEASE() {
    l_.unlock_restore(flags_);
    held_ = false;
  }
  void lock() ACQUIRE() {
    flags_ = l_.lock_save();
    held_ = true;
  }

 private:
  IrqSpinLock& l_;
  uint64_t flags_;
  bool held_ = true;
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
