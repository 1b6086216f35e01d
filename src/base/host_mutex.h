// HostMutex: std::mutex as a thread-safety capability, for the host builds
// of code templated on its lock (heap central, global run queue, futex
// table). libstdc++'s std::mutex carries no annotations, so GUARDED_BY
// members of such code would otherwise be checked against nothing.
// Host only.
#pragma once

#include <mutex>

#include "src/base/thread_annotations.h"

namespace base {

class CAPABILITY("mutex") HostMutex {
 public:
  HostMutex() = default;
  HostMutex(const HostMutex&) = delete;
  HostMutex& operator=(const HostMutex&) = delete;

  void lock() ACQUIRE() { m_.lock(); }
  bool try_lock() TRY_ACQUIRE(true) { return m_.try_lock(); }
  void unlock() RELEASE() { m_.unlock(); }

 private:
  std::mutex m_;
};

}  // namespace base
