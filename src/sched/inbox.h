// Inbox: the threads other CPUs hand to one CPU (a thread bound to it,
// woken elsewhere). Lock-free: any CPU pushes with one compare-and-swap
// (Treiber's stack), and the owner takes everything at once with one
// exchange, then restores arrival order. It replaced a ticket-locked FIFO
// whose lock both sides took on every cross-CPU hand-off.
//
// No ABA: the only removal is the owner's exchange of the whole list, so
// a pusher whose CAS finds the head it read links to exactly the list
// that head starts (a node taken and pushed again since is that head,
// with its link rewritten by its new pusher before it became the head).
// Memory order: a push is release, the take acquire, so the owner sees
// each thread as its pusher left it.
//
// `Link` as in runqueue.h (next/set_next through an intrusive field).
// Host-tested, and clean under TSan (tools/bazel test --config=tsan
// //src/sched:inbox_test).
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"

namespace sched {

template <typename T, typename Link>
class Inbox {
 public:
  constexpr Inbox() = default;
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  /// Any CPU, any context but NMI.
  void push(T* t) {
    // A statistic (size()), counted before the thread is visible so that
    // it never reads below zero.
    count_.fetch_add(1, base::MemoryOrder::kRelaxed);
    T* head = head_.load(base::MemoryOrder::kRelaxed);
    do {
      Link::set_next(t, head);
    } while (!head_.compare_exchange(head, t, base::MemoryOrder::kRelease, base::MemoryOrder::kRelaxed));
  }

  /// Owner only: takes every thread pushed so far and calls fn(T*) on
  /// each, oldest first (per pusher, the order of its pushes). Returns how
  /// many.
  template <typename Fn>
  size_t take_all(Fn&& fn) {
    T* t = head_.exchange(nullptr, base::MemoryOrder::kAcquire);
    if (t == nullptr) return 0;
    // Newest first as pushed: reverse in place.
    T* oldest = nullptr;
    size_t n = 0;
    while (t != nullptr) {
      T* next = Link::next(t);
      Link::set_next(t, oldest);
      oldest = t;
      t = next;
      ++n;
    }
    count_.fetch_sub(n, base::MemoryOrder::kRelaxed);
    while (oldest != nullptr) {
      T* next = Link::next(oldest);  // before fn, which may relink it
      fn(oldest);
      oldest = next;
    }
    return n;
  }

  /// Any CPU: a hint, possibly stale on return (the owner acts on it only
  /// after looking again with take_all; wakers pair it with a barrier).
  bool empty() const { return head_.load(base::MemoryOrder::kRelaxed) == nullptr; }

  /// Any CPU, a statistic: threads pushed and not yet taken.
  size_t size() const { return count_.load(base::MemoryOrder::kRelaxed); }

 private:
  base::Atomic<T*> head_{nullptr};
  base::Atomic<size_t> count_{0};
};

}  // namespace sched
