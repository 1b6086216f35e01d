// Must not compile: the kernel's spinlock taken and not released.
// EXPECT: mutex 'l' is still held at the end of function
#include "src/arch/spinlock.h"

void bad(arch::SpinLock& l) { l.lock(); }
