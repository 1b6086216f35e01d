// SpscRing<T, N>: a bounded lock-free queue from exactly one producer to
// exactly one consumer, e.g. an interrupt handler handing bytes or events to
// a thread. Neither side ever blocks, spins or takes a lock.
//
// Contexts: push() from the single producer context, pop() from the single
// consumer context; any contexts, NMI included, as long as each role has one
// caller at a time (an IRQ handler and an NMI handler both pushing are two
// producers: give them two rings). The consumer may be interrupted by the
// producer on the same CPU. size() from anywhere.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"

namespace base {

template <typename T, size_t kCapacity>
class SpscRing {
  static_assert(is_pow2(kCapacity), "capacity must be a power of two: indices wrap by masking");
  // Free-running 32-bit counters: tail - head is the fill level even across
  // the 2^32 wrap, as long as the capacity leaves full distinguishable from
  // empty (a capacity of 2^32 would make both a difference of 0).
  static_assert(kCapacity <= (size_t{1} << 31), "capacity must fit the 32-bit counters");
  // Slots are overwritten without destruction and copied out by value; a
  // type with a destructor or copy constructor would run arbitrary code in
  // the producer's (possibly NMI) context.
  static_assert(__is_trivially_copyable(T), "elements must be trivially copyable");

 public:
  constexpr SpscRing() = default;

  /// Starts both counters at `initial_index` instead of 0, so tests can
  /// cross the 2^32 wrap quickly. Behaves like an empty ring otherwise.
  constexpr explicit SpscRing(uint32_t initial_index) : head_(initial_index), tail_(initial_index) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  static constexpr size_t capacity() { return kCapacity; }

  /// Producer only. Appends `v`; false (and `v` dropped) when full.
  bool push(T v) {
    // Relaxed: only this side writes tail_, so it reads its own last value.
    const uint32_t tail = tail_.load(MemoryOrder::kRelaxed);
    // Acquire pairs with pop()'s release of head_: once we see a slot freed,
    // the consumer's read of that slot happened before, so overwriting it
    // below cannot race with that read.
    const uint32_t head = head_.load(MemoryOrder::kAcquire);
    if (tail - head == kCapacity) return false;
    slots_[tail & kMask] = v;
    // Release publishes the slot write above: a consumer that acquires the
    // new tail_ sees the element, not the slot's old contents.
    tail_.store(tail + 1, MemoryOrder::kRelease);
    return true;
  }

  /// Consumer only. Takes the oldest element into `*out`; false when empty.
  bool pop(T* out) {
    // Relaxed: only this side writes head_.
    const uint32_t head = head_.load(MemoryOrder::kRelaxed);
    // Acquire pairs with push()'s release of tail_: the element written
    // before that store is visible to the read below.
    const uint32_t tail = tail_.load(MemoryOrder::kAcquire);
    if (tail == head) return false;
    *out = slots_[head & kMask];
    // Release orders the slot read above before the producer can see the
    // slot as free and overwrite it.
    head_.store(head + 1, MemoryOrder::kRelease);
    return true;
  }

  /// Elements queued. Exact when called by the producer or the consumer
  /// with the other side idle; otherwise a snapshot that may be stale by
  /// the time it returns, always in [0, capacity()].
  size_t size() const {
    // head_ first, then tail_ (acquire keeps the second load after the
    // first): both only grow and head never passes tail, so the later tail
    // is at least the earlier head; the difference cannot underflow.
    const uint32_t head = head_.load(MemoryOrder::kAcquire);
    const uint32_t tail = tail_.load(MemoryOrder::kAcquire);
    const uint32_t n = tail - head;
    // The producer may have advanced past a head that has since moved on;
    // clamp so a third-party caller never sees more than can be queued.
    return n > kCapacity ? kCapacity : n;
  }

  bool empty() const { return size() == 0; }

 private:
  static constexpr uint32_t kMask = static_cast<uint32_t>(kCapacity - 1);

  // Each counter on its own cache line: the producer writes tail_ on every
  // push and the consumer head_ on every pop; sharing a line would bounce it
  // between CPUs on each operation.
  alignas(64) Atomic<uint32_t> head_{0};  // next slot to pop; written by the consumer only
  alignas(64) Atomic<uint32_t> tail_{0};  // next slot to fill; written by the producer only
  alignas(64) T slots_[kCapacity] = {};
};

}  // namespace base
