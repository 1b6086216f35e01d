// Must not compile: a REQUIRES function called without the lock.
// EXPECT: calling function 'add_locked' requires holding mutex 'a.mu' exclusively
#include "src/base/host_mutex.h"

struct Account {
  base::HostMutex mu;
  long balance GUARDED_BY(mu) = 0;
  void add_locked(long v) REQUIRES(mu) { balance += v; }
};

void bad(Account& a) { a.add_locked(1); }
