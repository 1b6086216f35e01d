// A bounded hand-off between one producing and one consuming thread: a ring
// of 64 words whose waits are futexes. The fast path writes only the ring
// and its own index; the futex is touched only when the other side sleeps.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"
#include "src/sched/futex.h"

namespace pipeline {

class HandOff {
 public:
  /// Waits while the ring is full. Producer thread only.
  void put(uint64_t v) {
    const uint32_t t = tail_.load(base::MemoryOrder::kRelaxed);
    for (;;) {
      const uint32_t h = head_.load(base::MemoryOrder::kAcquire);
      if (t - h < kSlots) break;
      wait_for_change(head_, h, producer_sleeps_, producer_waits_);
    }
    slot_[t % kSlots] = v;
    advance(tail_, t + 1, consumer_sleeps_);
  }

  /// Waits while the ring is empty. Consumer thread only.
  uint64_t take() {
    const uint32_t h = head_.load(base::MemoryOrder::kRelaxed);
    for (;;) {
      const uint32_t t = tail_.load(base::MemoryOrder::kAcquire);
      if (t != h) break;
      wait_for_change(tail_, t, consumer_sleeps_, consumer_waits_);
    }
    const uint64_t v = slot_[h % kSlots];
    advance(head_, h + 1, producer_sleeps_);
    return v;
  }

  /// How many times each side went to sleep (the hand-offs that cost a
  /// futex). Read once both sides are done.
  uint64_t producer_waits() const { return producer_waits_; }
  uint64_t consumer_waits() const { return consumer_waits_; }

 private:
  static constexpr uint32_t kSlots = 64;

  // Publishes `index`, then wakes the other side if it said it sleeps. Both
  // sides use sequentially consistent order for the index and the flag: the
  // sleeper sets its flag then re-reads the index, the publisher writes the
  // index then reads the flag, so at least one of them sees the other.
  static void advance(base::Atomic<uint32_t>& index, uint32_t value, base::Atomic<uint32_t>& other_sleeps) {
    index.store(value, base::MemoryOrder::kSeqCst);
    if (other_sleeps.load(base::MemoryOrder::kSeqCst) != 0 && other_sleeps.exchange(0, base::MemoryOrder::kSeqCst) != 0)
      (void)sched::futex_wake(reinterpret_cast<const uint32_t*>(&index), 1);
  }

  // Sleeps until `index` is no longer `seen` (the futex re-checks it, so a
  // change between the check and the sleep is not missed).
  static void wait_for_change(base::Atomic<uint32_t>& index, uint32_t seen, base::Atomic<uint32_t>& my_sleeps,
                              uint64_t& my_waits) {
    my_sleeps.store(1, base::MemoryOrder::kSeqCst);
    if (index.load(base::MemoryOrder::kSeqCst) == seen) {
      ++my_waits;
      (void)sched::futex_wait(reinterpret_cast<const uint32_t*>(&index), seen);
    }
    my_sleeps.store(0, base::MemoryOrder::kRelaxed);
  }

  uint64_t slot_[kSlots] = {};
  alignas(64) base::Atomic<uint32_t> head_{0};  // next slot to take: the consumer's
  base::Atomic<uint32_t> producer_sleeps_{0};
  uint64_t producer_waits_ = 0;
  alignas(64) base::Atomic<uint32_t> tail_{0};  // next slot to fill: the producer's
  base::Atomic<uint32_t> consumer_sleeps_{0};
  uint64_t consumer_waits_ = 0;
};

}  // namespace pipeline
