// FutexTable: the wait-queue half of futex_wait/futex_wake — a hash of
// 64-bit keys (futex addresses) to FIFO queues of waiters, one lock per
// bucket — kept apart from the scheduler so it can be tested on the host.
//
// Contexts: prepare_wait() from thread context; wake(), requeue() and
// cancel() from thread or interrupt context (a timer callback cancels a
// timed-out wait), provided interrupts are off while a bucket lock is held
// (futex.cc keeps them off around every call, and its lock is bare). Never NMI: every operation takes a
// bucket lock. Locks are released in the reverse order of taking them.
//
// ---------------------------------------------------------------------------
// The wait/wake protocol (what the scheduler must do)
//
//   futex_wait(addr, expected, timeout):
//     FutexWaiter w(current_thread);                  // on the waiter's stack
//     Status s = table.prepare_wait(w, addr, expected, load_user32);
//     if (!s.ok()) return s;                          // kAgain: value changed
//     arm timeout timer (its callback: if (table.cancel(w)) sched_wake(thread));
//     sched_block_until([&] { return w.done(); });    // see below
//     disarm timer;
//     return w.timed_out() ? kTimedOut : ok;
//
//   futex_wake(addr, n):  // after the caller stored the new futex value
//     return table.wake(addr, n, sched_wake);
//
// No wake is lost: prepare_wait() reads the futex word and enqueues `w` under
// the bucket lock, and wake() dequeues under the same lock, so a waker that
// changed the word before our read is seen by the read (kAgain), and one
// that changed it after our read finds `w` queued.
//
// A waiter's state goes kIdle -> kQueued, then exactly one of
//   kQueued -> kWaking -> kWoken  (wake()/requeue(), kWaking while the node is
//                                  on the waker's private list, lock dropped)
//   kQueued -> kTimedOut          (cancel())
// Only kWoken and kTimedOut are final (`done()`). The waker reads everything
// it needs from the node, then publishes kWoken with a release store, and only
// then calls wake_fn(thread); from that store on the node belongs to the
// waiter again, which may return and free it.
//
// What the scheduler must provide:
//  1. A race-free "block until done()": the check of w.done() and going to
//     sleep must be atomic with respect to wake_fn(thread). For example the
//     thread's scheduler lock is taken by both: block takes it, checks done(),
//     and only if false marks the thread blocked and switches away (dropping
//     the lock in the switch); wake_fn takes it and makes a blocked thread
//     runnable, and is a no-op for a thread that is running. Alternatively a
//     sticky permit (park/unpark): wake_fn sets the permit, block consumes it
//     or sleeps — then loop `while (!w.done()) park();`.
//     Either way spurious wakeups are harmless because the condition is
//     re-checked; and the waiter must sleep through kWaking (not done yet: the
//     waker still holds the node), which costs nothing since the wake_fn that
//     follows kWoken wakes it.
//  2. Thread lifetime: wake_fn(thread) runs after kWoken is published, so the
//     woken thread may already have seen done(), run on, even exited. The
//     `thread` object must stay valid until every in-flight wake_fn on it has
//     returned (reference-counted or type-stable thread objects, as Linux
//     pins the task with get_task_struct), and wake_fn on a thread that is
//     no longer blocked on this wait must be harmless (at worst a spurious
//     wakeup of a later sleep, which rechecks its own condition).
//  3. Timeouts and signals: the waiter (or its timer callback) calls
//     cancel(w). true: the waiter owns the outcome (kTimedOut) and the node
//     is unlinked. false: a waker claimed it first; the wake counts it, and
//     the waiter must still wait for done() (it may be in kWaking) before
//     it frees the node. So a waiter hit by a timeout and a wake at once is
//     counted exactly once.
//
// Simplified: no lockless "bucket has waiters" fast path for wake (Linux's
// futex_hb_waiters_pending); no priority inheritance; requeue does not
// compare the futex value (FUTEX_CMP_REQUEUE) — callers needing that check
// it themselves under their own lock.
#pragma once

#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/thread_annotations.h"
#include "src/base/types.h"

namespace sched {

template <typename Lock>
class FutexTable;

/// Where a FutexWaiter is in the protocol above.
enum class FutexState : uint32_t {
  kIdle = 0,  // not in any table (new, or finished and reusable)
  kQueued,    // in a bucket's list
  kWaking,    // dequeued by a waker, on its private list; not final
  kWoken,     // final: woken by wake()/requeue()
  kTimedOut,  // final: removed by cancel() (timeout or signal)
};

/// One blocked futex_wait: an intrusive node, usually on the waiter's
/// stack. The scheduler's `thread` is opaque to the table.
class FutexWaiter {
 public:
  explicit FutexWaiter(void* thread) : thread_(thread) {}
  FutexWaiter(const FutexWaiter&) = delete;
  FutexWaiter& operator=(const FutexWaiter&) = delete;

  void* thread() const { return thread_; }

  /// The state, with acquire: after seeing kWoken or kTimedOut the node is
  /// the waiter's again (pairs with the releases in wake() and cancel()).
  FutexState state() const { return static_cast<FutexState>(state_.load(base::MemoryOrder::kAcquire)); }
  /// True once the wait is over: the scheduler blocks until this holds.
  bool done() const {
    FutexState s = state();
    return s == FutexState::kWoken || s == FutexState::kTimedOut;
  }
  bool timed_out() const { return state() == FutexState::kTimedOut; }

  /// The key this waiter is (or was last) queued on; requeue() changes it.
  /// Stable only while the waiter is done or idle.
  uint64_t key() const { return key_; }

 private:
  template <typename Lock>
  friend class FutexTable;

  void set_state(FutexState s, base::MemoryOrder o) { state_.store(static_cast<uint32_t>(s), o); }
  FutexState state_relaxed() const { return static_cast<FutexState>(state_.load(base::MemoryOrder::kRelaxed)); }

  void* const thread_;
  // Guarded by the lock of the bucket in bucket_ while queued; by the waker
  // while kWaking.
  uint64_t key_ = 0;
  FutexWaiter* prev_ = nullptr;
  FutexWaiter* next_ = nullptr;
  // The bucket whose list holds this waiter (null when not queued). Written
  // under that bucket's lock (and, by requeue, the destination's too); read
  // locklessly by cancel() to find which lock to take, then re-checked.
  base::Atomic<void*> bucket_{nullptr};
  // FutexState. Written under the bucket lock except the kWaking -> kWoken
  // publication; read locklessly by the waiter (done()).
  base::Atomic<uint32_t> state_{static_cast<uint32_t>(FutexState::kIdle)};
};

/// The hash table. `Lock` needs lock()/unlock() (futex.cc's BucketLock in
/// the kernel, a TicketLock in host tests). Bucket storage is the caller's.
template <typename Lock>
class FutexTable {
 public:
  /// `n` for wake()/requeue(): every waiter.
  static constexpr uint32_t kAll = ~uint32_t{0};

  /// One hash chain. Cache-line aligned so neighbouring buckets' locks do not
  /// false-share.
  struct alignas(64) Bucket {
    Lock lock;
    FutexWaiter* head GUARDED_BY(lock) = nullptr;
    FutexWaiter* tail GUARDED_BY(lock) = nullptr;
  };

  /// The bucket count the kernel should allocate for `cpus` CPUs: 256 per
  /// CPU rounded up to a power of two, so chains stay short (Linux sizes its
  /// futex hash the same way).
  static constexpr size_t buckets_for_cpus(size_t cpus) {
    size_t want = (cpus == 0 ? 1 : cpus) * 256;
    size_t n = 1;
    while (n < want) n <<= 1;
    return n;
  }

  constexpr FutexTable() = default;
  FutexTable(const FutexTable&) = delete;
  FutexTable& operator=(const FutexTable&) = delete;

  /// Uses `buckets` (default-constructed, empty; a power of two in count;
  /// must outlive the table). Called once, before any other operation.
  void init(base::Span<Bucket> buckets) {
    ASSERT_MSG(base::is_pow2(buckets.size()), "futex bucket count {} must be a power of two", buckets.size());
    buckets_ = buckets.data();
    shift_ = 63 - log2(buckets.size());
  }

  size_t bucket_count() const { return size_t{1} << (63 - shift_); }

  /// Which bucket `key` hashes to. Multiply-shift (Fibonacci hashing): the
  /// top bits of key * 2^64/phi depend on every key bit, so the always-zero
  /// low bits of aligned addresses do not matter.
  size_t bucket_index(uint64_t key) const {
    // The top log2(buckets) bits, as two shifts: a fixed one, then by
    // shift_ (63 - log2), which stays below 64 for one bucket too, where a
    // single shift by 64 would be undefined. Two instructions where a test
    // for the one-bucket case took three, on every wait and wake.
    return static_cast<size_t>(((key * 0x9e37'79b9'7f4a'7c15ull) >> 1) >> shift_);
  }

  /// Reads the futex word with `load(key)` (returning base::Result<uint32_t>;
  /// it runs under a spinlock, so it must not sleep or take a page fault —
  /// return kFault and let the caller fault the page in and retry) and, if it
  /// equals `expected`, queues `w` at the tail of key's FIFO and returns ok.
  /// kAgain (nothing queued) if the value differs; load's error if it fails.
  /// `w` must not be queued (idle or done).
  template <typename LoadFn>
  base::Status prepare_wait(FutexWaiter& w, uint64_t key, uint32_t expected, LoadFn&& load) {
    FutexState s = w.state_relaxed();
    ASSERT_MSG(s != FutexState::kQueued && s != FutexState::kWaking, "futex waiter {} reused while still queued",
               static_cast<uint32_t>(s));
    Bucket& b = bucket_for(key);
    b.lock.lock();
    base::Result<uint32_t> v = load(key);
    if (!v.ok() || v.value() != expected) {
      b.lock.unlock();
      return v.ok() ? base::Error::kAgain : v.error();
    }
    w.key_ = key;
    // Relaxed: every reader that matters (wake, cancel) takes this lock; the
    // waiter itself wrote it.
    w.set_state(FutexState::kQueued, base::MemoryOrder::kRelaxed);
    push_back(b, &w);
    b.lock.unlock();
    return base::Status::Ok();
  }

  /// Wakes up to `n` waiters on `key`, oldest first, and returns how many.
  /// Waiters in the same bucket with other keys are skipped: the cost is one
  /// bucket's chain, which the bucket count keeps short. wake_fn(void*
  /// thread) is called for each after the bucket lock is released.
  template <typename WakeFn>
  uint32_t wake(uint64_t key, uint32_t n, WakeFn&& wake_fn) {
    if (n == 0) return 0;
    Bucket& b = bucket_for(key);
    FutexWaiter* woken = nullptr;  // private list through next_, oldest first
    FutexWaiter** woken_tail = &woken;
    uint32_t count = 0;
    b.lock.lock();
    for (FutexWaiter* w = b.head; w != nullptr && count < n;) {
      FutexWaiter* next = w->next_;
      if (w->key_ == key) {
        unlink(b, w);
        // Relaxed: under the lock, which cancel() takes before reading it.
        w->set_state(FutexState::kWaking, base::MemoryOrder::kRelaxed);
        w->next_ = nullptr;
        *woken_tail = w;
        woken_tail = &w->next_;
        ++count;
      }
      w = next;
    }
    b.lock.unlock();
    finish_wakes(woken, wake_fn);
    return count;
  }

  /// Wakes up to `n_wake` waiters on `from` (oldest first), then moves up to
  /// `n_move` of the remaining ones, in order, to the tail of `to`'s FIFO —
  /// for a condition variable's broadcast, so the herd sleeps on the mutex
  /// instead of stampeding. Returns the number woken plus moved (as Linux's
  /// FUTEX_REQUEUE does).
  template <typename WakeFn>
  uint32_t requeue(uint64_t from, uint64_t to, uint32_t n_wake, uint32_t n_move, WakeFn&& wake_fn) {
    Bucket& bf = bucket_for(from);
    Bucket& bt = bucket_for(to);
    FutexWaiter* woken = nullptr;
    FutexWaiter** woken_tail = &woken;
    FutexWaiter* moved = nullptr;
    FutexWaiter** moved_tail = &moved;
    uint32_t nw = 0, nm = 0;
    lock_pair(bf, bt);
    for (FutexWaiter* w = bf.head; w != nullptr && (nw < n_wake || nm < n_move);) {
      FutexWaiter* next = w->next_;
      if (w->key_ == from) {
        if (nw < n_wake) {
          unlink(bf, w);
          w->set_state(FutexState::kWaking, base::MemoryOrder::kRelaxed);
          *woken_tail = w;
          woken_tail = &w->next_;
          ++nw;
        } else {
          // Stays kQueued; only its key and bucket change, under both locks,
          // and bucket_ goes straight from bf to bt (never null: cancel()
          // reads null as "a waker owns it"). A concurrent cancel() either
          // finished on bf before us or re-checks under a lock and retries.
          unlink_links(bf, w);
          // Relaxed: cancel() only trusts bucket_ after re-reading it under
          // the bucket's lock, which we hold for both buckets.
          w->bucket_.store(&bt, base::MemoryOrder::kRelaxed);
          w->key_ = to;
          *moved_tail = w;
          moved_tail = &w->next_;
          ++nm;
        }
      }
      w = next;
    }
    // Appended after the scan so that, when both keys share a bucket, the
    // scan never meets the waiters it moved.
    for (FutexWaiter* w = moved; w != nullptr;) {
      FutexWaiter* next = w->next_;
      push_back(bt, w);
      w = next;
    }
    unlock_pair(bf, bt);
    finish_wakes(woken, wake_fn);
    return nw + nm;
  }

  /// For a timeout or signal: if `w` is still queued, unlinks it, marks it
  /// kTimedOut and returns true. false if a waker got there first (kWaking or
  /// kWoken: that wake counted it, and the waiter must still wait for done())
  /// or it was already cancelled.
  bool cancel(FutexWaiter& w) {
    for (;;) {
      // Acquire pairs with the release in push_back(): seeing the bucket
      // pointer means the bucket's lock and list are the ones to take.
      // Relaxed would be enough for correctness (we re-check under the
      // lock), but acquire keeps the reasoning local.
      void* p = w.bucket_.load(base::MemoryOrder::kAcquire);
      if (p == nullptr) {
        // Not in a list: kIdle, kWaking, or final. A kQueued waiter always
        // has a bucket (requeue() switches it without passing through null),
        // and once null it stays null until the waiter queues again, so this
        // is a stable answer. Taking no lock is fine: the waker
        // that cleared it already owns the outcome.
        return false;
      }
      Bucket& b = *static_cast<Bucket*>(p);
      b.lock.lock();
      // Relaxed: bucket_ only changes under b's lock while it points at b.
      if (w.bucket_.load(base::MemoryOrder::kRelaxed) != p) {
        b.lock.unlock();  // requeued (or woken) meanwhile: look again
        continue;
      }
      DEBUG_ASSERT(w.state_relaxed() == FutexState::kQueued);
      unlink(b, &w);
      // Release: the waiter's done() (acquire) then sees the node unlinked,
      // and we touch it no more.
      w.set_state(FutexState::kTimedOut, base::MemoryOrder::kRelease);
      b.lock.unlock();
      return true;
    }
  }

  /// For tests and diagnostics: the number of waiters queued on `key`.
  size_t count_waiters(uint64_t key) {
    Bucket& b = bucket_for(key);
    size_t n = 0;
    b.lock.lock();
    for (FutexWaiter* w = b.head; w != nullptr; w = w->next_) n += (w->key_ == key);
    b.lock.unlock();
    return n;
  }

 private:
  static constexpr uint32_t log2(size_t n) {
    uint32_t l = 0;
    while ((size_t{1} << l) < n) ++l;
    return l;
  }

  Bucket& bucket_for(uint64_t key) const { return buckets_[bucket_index(key)]; }

  static void push_back(Bucket& b, FutexWaiter* w) REQUIRES(b.lock) {
    w->next_ = nullptr;
    w->prev_ = b.tail;
    if (b.tail != nullptr) {
      b.tail->next_ = w;
    } else {
      b.head = w;
    }
    b.tail = w;
    // Release: pairs with cancel()'s acquire (see there).
    w->bucket_.store(&b, base::MemoryOrder::kRelease);
  }

  static void unlink(Bucket& b, FutexWaiter* w) REQUIRES(b.lock) {
    unlink_links(b, w);
    // Relaxed: cancel() re-reads bucket_ under this lock before trusting it.
    w->bucket_.store(nullptr, base::MemoryOrder::kRelaxed);
  }

  // Takes `w` out of b's list, leaving bucket_ alone.
  static void unlink_links(Bucket& b, FutexWaiter* w) REQUIRES(b.lock) {
    if (w->prev_ != nullptr) {
      w->prev_->next_ = w->next_;
    } else {
      b.head = w->next_;
    }
    if (w->next_ != nullptr) {
      w->next_->prev_ = w->prev_;
    } else {
      b.tail = w->prev_;
    }
    w->prev_ = w->next_ = nullptr;
  }

  // Two bucket locks in address order, so two requeues in opposite
  // directions cannot deadlock; one lock if both keys share a bucket. To
  // its callers, both held (when a and b are one bucket, one lock under
  // two names: requeue's accesses through either are then still locked).
  // Its body takes them in an order chosen at run time, which the
  // analysis cannot follow.
  static void lock_pair(Bucket& a, Bucket& b) ACQUIRE(a.lock, b.lock) NO_THREAD_SAFETY_ANALYSIS {
    if (&a == &b) {
      a.lock.lock();
    } else if (&a < &b) {
      a.lock.lock();
      b.lock.lock();
    } else {
      b.lock.lock();
      a.lock.lock();
    }
  }
  // In the reverse order of lock_pair, so that a lock which restores at
  // unlock() the interrupt flag its lock() saved (an IrqSpinLock) gives the
  // caller's flag back only once both buckets are free.
  static void unlock_pair(Bucket& a, Bucket& b) RELEASE(a.lock, b.lock) NO_THREAD_SAFETY_ANALYSIS {
    if (&a == &b) {
      a.lock.unlock();
    } else if (&a < &b) {
      b.lock.unlock();
      a.lock.unlock();
    } else {
      a.lock.unlock();
      b.lock.unlock();
    }
  }

  // Publishes kWoken and calls wake_fn for each waiter on the private list,
  // with no lock held.
  template <typename WakeFn>
  static void finish_wakes(FutexWaiter* w, WakeFn& wake_fn) {
    while (w != nullptr) {
      // Read everything we need before the release store: after it the
      // waiter may return and reuse or free the node.
      FutexWaiter* next = w->next_;
      void* thread = w->thread_;
      // Release: orders our reads of the node (and the caller's futex-word
      // store) before the waiter's acquire in done().
      w->set_state(FutexState::kWoken, base::MemoryOrder::kRelease);
      wake_fn(thread);
      w = next;
    }
  }

  Bucket* buckets_ = nullptr;
  uint32_t shift_ = 63;  // 63 - log2(bucket count): see bucket_index
};

}  // namespace sched
