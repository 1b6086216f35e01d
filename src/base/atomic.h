// Atomic<T>: std::atomic's interface over Clang's __atomic builtins, for the
// freestanding kernel (no <atomic> there). Orders are always named at the
// call site. Lock-free for the integer and pointer types used here, so
// callable from any context, NMI included.
#pragma once

#include "src/base/types.h"

namespace base {

enum class MemoryOrder : int {
  kRelaxed = __ATOMIC_RELAXED,
  kAcquire = __ATOMIC_ACQUIRE,
  kRelease = __ATOMIC_RELEASE,
  kAcqRel = __ATOMIC_ACQ_REL,
  kSeqCst = __ATOMIC_SEQ_CST,
};

template <typename T>
class Atomic {
 public:
  // NOLINTNEXTLINE(bugprone-sizeof-expression): T may be a pointer; its size is what is asked.
  static_assert(__atomic_always_lock_free(sizeof(T), 0), "Atomic<T> must be lock-free");
  constexpr Atomic() : v_() {}
  constexpr explicit Atomic(T v) : v_(v) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(MemoryOrder o) const { return __atomic_load_n(&v_, static_cast<int>(o)); }
  void store(T v, MemoryOrder o) { __atomic_store_n(&v_, v, static_cast<int>(o)); }
  T exchange(T v, MemoryOrder o) { return __atomic_exchange_n(&v_, v, static_cast<int>(o)); }
  bool compare_exchange(T& expected, T desired, MemoryOrder success, MemoryOrder failure) {
    return __atomic_compare_exchange_n(&v_, &expected, desired, false, static_cast<int>(success),
                                       static_cast<int>(failure));
  }
  T fetch_add(T d, MemoryOrder o) { return __atomic_fetch_add(&v_, d, static_cast<int>(o)); }
  T fetch_sub(T d, MemoryOrder o) { return __atomic_fetch_sub(&v_, d, static_cast<int>(o)); }
  T fetch_or(T d, MemoryOrder o) { return __atomic_fetch_or(&v_, d, static_cast<int>(o)); }
  T fetch_and(T d, MemoryOrder o) { return __atomic_fetch_and(&v_, d, static_cast<int>(o)); }

 private:
  T v_;
};

}  // namespace base
