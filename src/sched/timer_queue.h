// TimerQueue: one CPU's pending timers (sleeps, futex timeouts) ordered by
// deadline, as an intrusive red-black tree with a cached earliest node:
// insert, cancel and popping the earliest O(log n) worst case, peek O(1).
// Worst-case rather than amortized bounds (a pairing heap's) because expiry
// runs in the timer interrupt. No allocation: Timer nodes are the callers'.
//
// Contexts: not thread-safe. Each queue belongs to one CPU; callers hold that
// CPU's timer lock or run on it with interrupts off. Thread and interrupt
// context; not NMI (it would interrupt a holder).
#pragma once

#include "src/base/types.h"

namespace sched {

class TimerQueue;
class TimerList;

/// A timer: a deadline and what to do when it passes. Owned by the caller
/// (in the sleeping thread, the futex waiter, ...); must not be destroyed
/// while queued or listed.
class Timer {
 public:
  /// Called by fire(), by whoever runs the expired list (not the queue).
  using Callback = void (*)(Timer& timer, void* arg);

  constexpr Timer() = default;
  constexpr Timer(Callback fn, void* arg) : fn_(fn), arg_(arg) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void set_callback(Callback fn, void* arg) {
    fn_ = fn;
    arg_ = arg;
  }
  void* arg() const { return arg_; }

  /// The deadline of the last insert().
  uint64_t deadline_ns() const { return deadline_ns_; }
  /// In a queue's tree (under that queue's lock).
  bool queued() const { return state_ == State::kQueued; }
  /// Popped by pop_expired() onto a list and not yet taken off it.
  bool listed() const { return state_ == State::kListed; }
  /// The queue holding this timer, or null. For cross-CPU cancel: the caller
  /// reads it under a lock that keeps it stable, then takes that queue's lock.
  TimerQueue* queue() const { return __atomic_load_n(&queue_, __ATOMIC_ACQUIRE); }

  /// Runs the callback. Call after taking the timer off its list (it may then
  /// re-insert itself).
  void fire() { fn_(*this, arg_); }

  /// Marks the timer as off every queue only for a moment: taken out of one
  /// queue to be put in another, or taken out to have its callback run.
  /// Set before the take-out and cleared after the put-in or the callback,
  /// by the holder of the queue's lock (the lock-free queue() read alone
  /// cannot tell such a moment from "fired and done": see timer_cancel).
  void set_in_transit(bool on) { __atomic_store_n(&in_transit_, on, __ATOMIC_RELEASE); }
  /// Acquire: read after a queue() that returned null (whose store, a
  /// release, came after the mark).
  bool in_transit() const { return __atomic_load_n(&in_transit_, __ATOMIC_ACQUIRE); }

 private:
  friend class TimerQueue;
  friend class TimerList;

  enum class State : uint8_t { kIdle, kQueued, kListed };

  uint64_t deadline_ns_ = 0;
  uint64_t seq_ = 0;  // insertion order within the queue: ties fire FIFO
  Timer* parent_ = nullptr;
  Timer* child_[2] = {};  // [0] left (earlier), [1] right: indexed, so mirror cases share code
  Timer* list_next_ = nullptr;
  TimerQueue* queue_ = nullptr;
  Callback fn_ = nullptr;
  void* arg_ = nullptr;
  bool red_ = false;
  State state_ = State::kIdle;
  bool in_transit_ = false;
};

/// An intrusive FIFO of expired timers, filled by pop_expired() under the
/// CPU's lock and drained (fire()) after dropping it.
class TimerList {
 public:
  constexpr TimerList() = default;
  TimerList(const TimerList&) = delete;
  TimerList& operator=(const TimerList&) = delete;

  bool empty() const { return head_ == nullptr; }
  void push_back(Timer& t);
  /// The oldest entry, now idle (free to re-insert), or null when empty.
  Timer* pop_front();

 private:
  Timer* head_ = nullptr;
  Timer* tail_ = nullptr;
};

class TimerQueue {
 public:
  constexpr TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Arms idle timer `t` for `deadline_ns`. Among equal deadlines, earlier
  /// inserts expire first. Re-arming a queued timer: cancel() it first.
  void insert(Timer& t, uint64_t deadline_ns);

  /// Removes `t` if it is in this queue and returns true. false (and nothing
  /// changed) if it is not: never armed, already popped (expired — possibly
  /// still on a TimerList, about to fire), cancelled, or in another queue.
  bool cancel(Timer& t);

  /// The earliest timer, or null. O(1).
  Timer* peek() const { return leftmost_; }
  /// The earliest deadline, or UINT64_MAX when empty (for programming the
  /// one-shot timer). O(1).
  uint64_t next_deadline() const { return leftmost_ ? leftmost_->deadline_ns_ : ~uint64_t{0}; }

  /// Moves every timer with deadline_ns <= `now_ns` to the tail of `out`, in
  /// expiry order, and returns how many.
  size_t pop_expired(uint64_t now_ns, TimerList& out);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// Checks every red-black, ordering, link and count invariant; false if
  /// one is broken. O(n); for tests.
  bool verify() const;

 private:
  static bool before(const Timer* a, const Timer* b) {
    return a->deadline_ns_ < b->deadline_ns_ || (a->deadline_ns_ == b->deadline_ns_ && a->seq_ < b->seq_);
  }
  static bool is_red(const Timer* t) { return t != nullptr && t->red_; }
  static Timer* min_of(Timer* t);
  static Timer* next_of(Timer* t);

  // Moves x down towards `dir` (0 left, 1 right); its other child rises.
  void rotate(Timer* x, int dir);
  void replace_child(Timer* parent, Timer* old_child, Timer* new_child);
  void insert_fixup(Timer* z);
  void erase(Timer* z);
  void erase_fixup(Timer* x, Timer* x_parent);
  int verify_subtree(const Timer* t, const Timer* parent, size_t& count) const;

  Timer* root_ = nullptr;
  Timer* leftmost_ = nullptr;  // cached earliest
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace sched
