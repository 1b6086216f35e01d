// Must not compile: a GUARDED_BY member written without its lock.
// EXPECT: writing variable 'balance' requires holding mutex 'a.mu' exclusively
#include "src/base/host_mutex.h"

struct Account {
  base::HostMutex mu;
  long balance GUARDED_BY(mu) = 0;
};

void bad(Account& a) { a.balance += 1; }
