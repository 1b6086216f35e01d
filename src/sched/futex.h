// Futexes: sleep until a 32-bit word changes, with Linux's semantics, over
// FutexTable (futex_table.h: waiters hashed by address into buckets with
// their own locks, FIFO per address). Thread context.
#pragma once

#include "src/base/types.h"
#include "src/sched/timer.h"

namespace sched {

// Linux's errno values, returned negated.
inline constexpr int kEAGAIN = 11;
inline constexpr int kEFAULT = 14;
inline constexpr int kEINVAL = 22;
inline constexpr int kETIMEDOUT = 110;

/// For futex_wake's n: every waiter.
inline constexpr uint32_t kFutexAll = ~uint32_t{0};

/// Sets up the buckets for `ncpu` CPUs. Boot CPU, after the heap.
void futex_init(uint32_t ncpu);

/// If *addr == expected, sleeps until a futex_wake on addr wakes this
/// thread or `timeout_ns` (relative; kNoTimeout for none) passes. Returns
/// 0 when woken, -kEAGAIN when *addr != expected, -kETIMEDOUT on timeout,
/// -kEINVAL for a misaligned addr, -kEFAULT for an unreadable one. A wake
/// that races with the check is never lost; a waiter hit by its timeout and
/// a wake at once is counted by the wake and returns 0.
int futex_wait(const uint32_t* addr, uint32_t expected, uint64_t timeout_ns = kNoTimeout);

/// Wakes up to `n` waiters on addr, oldest first; returns how many.
/// -kEINVAL for a misaligned addr.
int futex_wake(const uint32_t* addr, uint32_t n);

/// Wakes up to `n_wake` waiters on `from` and moves up to `n_move` more to
/// wait on `to` (a condition variable's broadcast onto its mutex).
int futex_requeue(const uint32_t* from, const uint32_t* to, uint32_t n_wake, uint32_t n_move);

}  // namespace sched
