// Control: the same accesses as the failing cases, correctly locked, compile.
#include "src/base/guarded.h"
#include "src/base/host_mutex.h"
#include "src/base/lock_guard.h"

struct Account {
  base::HostMutex mu;
  long balance GUARDED_BY(mu) = 0;
  void add_locked(long v) REQUIRES(mu) { balance += v; }
};

long good(Account& a, base::Guarded<long, base::HostMutex>& g) {
  base::LockGuard<base::HostMutex> hold(a.mu);
  a.add_locked(1);
  return a.balance + g.with([](long& v) { return v; });
}
