// Must not compile: data guarded by the interrupt-saving spinlock read
// without it.
// EXPECT: reading variable 'pending' requires holding mutex 'q.lock'
#include "src/arch/spinlock.h"

struct Queue {
  arch::IrqSpinLock lock;
  int pending GUARDED_BY(lock) = 0;
};

int bad(Queue& q) { return q.pending; }
