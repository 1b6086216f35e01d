// LockGuard: a scoped hold of any annotated lock (a CAPABILITY type with
// lock()/unlock()), which the thread-safety analysis follows. It may drop
// and retake the lock inside its scope (a shootdown must not be sent with
// the page-table lock held). Any context the lock itself allows.
#pragma once

#include "src/base/thread_annotations.h"

namespace base {

template <typename Lock>
class SCOPED_CAPABILITY LockGuard {
 public:
  explicit LockGuard(Lock& l) ACQUIRE(l) : l_(l) { l_.lock(); }
  ~LockGuard() RELEASE() {
    // Folded away where the scope never calls unlock().
    if (held_) l_.unlock();
  }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

  /// Drops the lock before the scope ends ...
  void unlock() RELEASE() {
    l_.unlock();
    held_ = false;
  }
  /// ... and takes it back.
  void lock() ACQUIRE() {
    l_.lock();
    held_ = true;
  }

 private:
  Lock& l_;
  bool held_ = true;
};

}  // namespace base
