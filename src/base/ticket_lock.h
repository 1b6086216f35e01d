// TicketLock: a FIFO spinlock (tickets are served in order, so no CPU
// starves). Raw: it does not touch the interrupt flag — the kernel's
// SpinLock wraps it with interrupt disabling. Every spin iteration calls
// Relax (PAUSE in the kernel: QEMU's icount mode only switches vCPUs on
// PAUSE or HLT, and it eases the sibling hyperthread). Any context that
// cannot be re-entered by a holder of the same lock.
#pragma once

#include "src/base/atomic.h"
#include "src/base/thread_annotations.h"

namespace base {

struct PauseRelax {
  static void relax() {
#if defined(__x86_64__)
    asm volatile("pause" ::: "memory");
#endif
  }
};

template <typename Relax = PauseRelax>
class CAPABILITY("mutex") TicketLock {
 public:
  constexpr TicketLock() = default;

  void lock() ACQUIRE() {
    uint32_t mine = next_.fetch_add(1, MemoryOrder::kRelaxed);
    // Acquire pairs with the release in unlock(): the previous holder's
    // writes are visible once our ticket is served.
    while (serving_.load(MemoryOrder::kAcquire) != mine) Relax::relax();
  }

  bool try_lock() TRY_ACQUIRE(true) {
    uint32_t s = serving_.load(MemoryOrder::kRelaxed);
    uint32_t expected = s;
    return next_.compare_exchange(expected, s + 1, MemoryOrder::kAcquire, MemoryOrder::kRelaxed);
  }

  void unlock() RELEASE() {
    // Only the holder writes serving_, so a plain increment published with
    // release suffices.
    serving_.store(serving_.load(MemoryOrder::kRelaxed) + 1, MemoryOrder::kRelease);
  }

  bool is_locked() const { return next_.load(MemoryOrder::kRelaxed) != serving_.load(MemoryOrder::kRelaxed); }

  /// Tickets taken but not yet served, the holder's aside: how many wait
  /// now. Racy (for diagnostics): the two loads are not one snapshot.
  uint32_t waiters() const {
    const uint32_t queued = next_.load(MemoryOrder::kRelaxed) - serving_.load(MemoryOrder::kRelaxed);
    return queued == 0 ? 0 : queued - 1;
  }

 private:
  Atomic<uint32_t> next_{0};
  Atomic<uint32_t> serving_{0};
};

}  // namespace base
