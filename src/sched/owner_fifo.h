// OwnerFifo: an intrusive FIFO of threads for one owner (a CPU's bound
// FIFO, scheduler.cc), with interrupts off: no lock, no atomics. Linked
// through the element's `rq_next`; `tail` points at the link to fill next
// (head's when empty), so a push is the same few stores either way.
//
// rotate() is the pinned yield's step: the head leaves, the yielder joins
// at the tail, in about half the instructions of a pop and a push (no
// count update, one branch). Host-tested (owner_fifo_test.cc).
#pragma once

#include "src/base/types.h"

namespace sched {

template <typename T>
class OwnerFifo {
 public:
  constexpr OwnerFifo() = default;
  // Self-referential (tail may point at head): not copyable.
  OwnerFifo(const OwnerFifo&) = delete;
  OwnerFifo& operator=(const OwnerFifo&) = delete;

  void push(T* t) {
    t->rq_next = nullptr;
    *tail_ = t;
    tail_ = &t->rq_next;
    ++n_;
  }

  T* pop() {
    if (head_ == nullptr) return nullptr;
    return pop_nonempty();
  }

  /// pop() for a caller that has seen the FIFO non-empty.
  T* pop_nonempty() {
    T* t = head_;
    head_ = t->rq_next;
    if (head_ == nullptr) tail_ = &head_;
    --n_;
    return t;
  }

  /// pop_nonempty() and push(t) in one step: returns the head, and `t`
  /// (not queued) is the new tail. The size does not change.
  T* rotate(T* t) {
    T* h = head_;
    T* rest = h->rq_next;
    t->rq_next = nullptr;
    if (rest == nullptr) {
      head_ = t;  // h was alone, and tail_ its link: t is all there is
    } else {
      head_ = rest;
      *tail_ = t;
    }
    tail_ = &t->rq_next;
    return h;
  }

  /// The head, or null; it stays queued.
  T* front() const { return head_; }
  bool empty() const { return head_ == nullptr; }
  /// A statistic: the owner writes the count plainly and others read it
  /// racily (as CpuSched's other statistics).
  size_t size() const { return __atomic_load_n(&n_, __ATOMIC_RELAXED); }

 private:
  T* head_ = nullptr;
  T** tail_ = &head_;
  size_t n_ = 0;
};

}  // namespace sched
