// Guarded<T, Lock>: a value and the lock that protects all of it, kept
// together so the value can only be reached with the lock held — through
// with(fn), a Locked hold, or get() in a function that REQUIRES the lock.
// The thread-safety analysis (-Wthread-safety) checks every access. Any
// context the lock itself allows.
#pragma once

#include "src/base/lock_guard.h"
#include "src/base/thread_annotations.h"

namespace base {

template <typename T, typename Lock>
class Guarded {
 public:
  constexpr Guarded() = default;
  constexpr explicit Guarded(const T& value) : value_(value) {}
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;

  /// Runs fn(T&) with the lock held and returns what it returns.
  template <typename Fn>
  decltype(auto) with(Fn&& fn) EXCLUDES(lock_) {
    LockGuard<Lock> g(lock_);
    return fn(value_);
  }

  /// The lock, for REQUIRES(x.lock()) on helpers and for LockGuard.
  Lock& lock() RETURN_CAPABILITY(lock_) { return lock_; }

  /// The value, for a caller that holds lock().
  T& get() REQUIRES(lock_) { return value_; }
  const T& get() const REQUIRES(lock_) { return value_; }

  /// A hold of the lock for one scope, with the value behind -> and *.
  class SCOPED_CAPABILITY Locked {
   public:
    explicit Locked(Guarded& g) ACQUIRE(g.lock_) : g_(g) { g_.lock_.lock(); }
    ~Locked() RELEASE() { g_.lock_.unlock(); }
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
    // The analysis cannot tie g_.lock_ to the caller's g.lock_; this hold
    // existing is the proof that it is held.
    T* operator->() NO_THREAD_SAFETY_ANALYSIS { return &g_.value_; }
    T& operator*() NO_THREAD_SAFETY_ANALYSIS { return g_.value_; }

   private:
    Guarded& g_;
  };

 private:
  Lock lock_;
  T value_ GUARDED_BY(lock_){};
};

}  // namespace base
