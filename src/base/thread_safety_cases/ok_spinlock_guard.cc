// Control: the kernel's spinlocks held through their guards compile.
#include "src/arch/spinlock.h"

struct Queue {
  arch::IrqSpinLock lock;
  int pending GUARDED_BY(lock) = 0;
  arch::SpinLock other;
  int count GUARDED_BY(other) = 0;
};

int good(Queue& q) {
  arch::IrqSpinLockGuard g(q.lock);
  arch::SpinLockGuard h(q.other);
  return q.pending + q.count;
}
