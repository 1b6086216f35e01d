// Must not compile: a Guarded value reached without its lock.
// EXPECT: calling function 'get' requires holding mutex 'g.lock_' exclusively
#include "src/base/guarded.h"
#include "src/base/host_mutex.h"

long bad(base::Guarded<long, base::HostMutex>& g) { return g.get(); }
