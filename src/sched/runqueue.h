// Run queues for the scheduler, after Go's runtime (runq/runnext, runqput,
// runqget, runqsteal/runqgrab, globrunq*): a bounded lock-free ring per CPU
// with a one-element run_next slot, and one locked FIFO shared by all CPUs.
//
// Element type. Both queues hold `T*` and never own, copy or allocate: a
// thread sits in at most one queue at a time and the queue stores only the
// pointer. The global queue links threads through an intrusive pointer that
// `Link` (default RunQueueLink<T>: a member `T* rq_next`) reads and writes;
// the per-CPU ring does not use the link, except to chain the batch it
// spills into the global queue. Every operation costs O(1) or O(N) for the
// ring capacity N, never O(number of threads).
//
// Contexts:
//  - LocalRunQueue "owner" operations (push, pop, free_slots, and being the
//    `own` side of steal_into / GlobalRunQueue::pop_batch_into) from the CPU
//    that owns the queue, one at a time: the owner must not be re-entered by
//    another owner operation on the same queue (call them with preemption
//    and, if interrupt handlers touch the queue, interrupts disabled).
//  - The thief side of steal_into (reading `victim`) and size() from any
//    CPU, thread or interrupt context; lock-free, no spinning except CAS
//    retries that only fail when another consumer made progress.
//  - GlobalRunQueue: wherever its Lock may be taken (the kernel's SpinLock:
//    thread and interrupt context, never NMI). size()/empty() are lock-free
//    hints, callable anywhere.
#pragma once

#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/base/thread_annotations.h"
#include "src/base/types.h"

namespace sched {

/// How the global queue reaches a thread's intrusive link. The default uses a
/// member `T* rq_next`; pass another struct with the same two functions for
/// a different layout.
template <typename T>
struct RunQueueLink {
  static T* next(const T* t) { return t->rq_next; }
  static void set_next(T* t, T* next) { t->rq_next = next; }
};

/// Whether steal_into may take the victim's run_next when its ring is empty.
enum class StealRunNext : bool { kNo = false, kYes = true };

/// The default back-off before stealing a run_next: none.
struct NoBackoff {
  void operator()() const {}
};

template <typename T, typename Lock, typename Link = RunQueueLink<T>>
class GlobalRunQueue;

template <typename T, size_t N = 256>
class LocalRunQueue;

template <typename T, size_t N, typename Backoff = NoBackoff>
T* steal_into(LocalRunQueue<T, N>& victim, LocalRunQueue<T, N>* own, StealRunNext run_next = StealRunNext::kNo,
              Backoff&& backoff = Backoff{});

/// A CPU's run queue: a ring of N thread pointers plus a run_next slot.
///
/// The owner pushes at the tail (a plain store-release of tail_); the owner
/// and thieves pop at the head with a CAS on head_, so a consumer that loses
/// the race retries and no element is taken twice. run_next holds the thread
/// the owner wants to run next (typically one it just woke: it shares the
/// waker's cache and would otherwise wait behind the whole ring); pop()
/// prefers it. It is a separate atomic so thieves can CAS it away too.
///
/// Memory-order argument (the one non-local fact): every write of head_ is a
/// read-modify-write (a CAS), and consumers' successful CASes are release. So
/// when the owner acquire-loads head_ and sees a slot freed, it synchronizes
/// with the release CAS of whoever consumed that slot (through the release
/// sequence of later CASes), hence that consumer's read of the slot happens
/// before the owner overwrites it. A thief that reads a slot and then loses
/// its CAS may have read garbage (a newer element); it discards the value.
/// Slots are atomics accessed relaxed so that such a discarded read is not a
/// data race (Go tolerates that race; C++ and TSan do not).
///
/// The 32-bit counters run free and wrap; tail - head is the fill level. A
/// thief preempted between loading head_ and its CAS could be fooled (ABA)
/// only if exactly 2^32 elements were consumed meanwhile; Go accepts the
/// same risk.
template <typename T, size_t N>
class LocalRunQueue {
  static_assert(base::is_pow2(N) && N >= 2, "N must be a power of two >= 2: indices wrap by masking");
  static_assert(N <= (size_t{1} << 30), "N must leave the 32-bit counters room to tell full from empty");

 public:
  static constexpr size_t kCapacity = N;

  constexpr LocalRunQueue() = default;

  /// Test hook: starts head and tail at `initial_index` instead of 0 so tests
  /// can cross the 2^32 wrap quickly. Behaves like an empty queue otherwise.
  constexpr explicit LocalRunQueue(uint32_t initial_index) : head_(initial_index), tail_(initial_index) {}

  LocalRunQueue(const LocalRunQueue&) = delete;
  LocalRunQueue& operator=(const LocalRunQueue&) = delete;

  /// Owner only. Queues `t`. With `as_next`, `t` takes run_next and the
  /// thread it displaces (if any) goes to the ring's tail instead. When the
  /// ring is full, its older half plus the element being added move to
  /// `global` in one batch (one lock acquisition), oldest first.
  template <typename Lock, typename Link>
  void push(T* t, bool as_next, GlobalRunQueue<T, Lock, Link>& global) {
    ASSERT(t != nullptr);
    if (as_next) {
      // Release publishes the thread's state (written by this CPU before it
      // became runnable) to a thief that acquire-CASes it out of run_next.
      // No acquire needed: only the owner ever stores a non-null value, so
      // a non-null old value is our own earlier store.
      T* old = run_next_.exchange(t, base::MemoryOrder::kRelease);
      if (old == nullptr) return;
      t = old;
    }
    for (;;) {
      // Acquire pairs with consumers' release CAS on head_ (class comment):
      // a slot we see as free has been read by its consumer.
      const uint32_t head = head_.load(base::MemoryOrder::kAcquire);
      // Relaxed: only the owner (this CPU) writes tail_.
      const uint32_t tail = tail_.load(base::MemoryOrder::kRelaxed);
      ASSERT_MSG(tail - head <= N, "runqueue: fill level {} exceeds capacity {}", tail - head, N);
      if (tail - head < N) {
        slots_[tail & kMask].store(t, base::MemoryOrder::kRelaxed);
        // Release publishes the slot (and the thread's state) to consumers
        // that acquire-load tail_.
        tail_.store(tail + 1, base::MemoryOrder::kRelease);
        return;
      }
      if (spill(t, head, tail, global)) return;
      // A consumer moved head_ between our load and the CAS: there is room
      // now, so the plain push above will succeed.
    }
  }

  /// Owner only. Takes run_next if set, else the oldest ring element;
  /// nullptr if both are empty.
  T* pop() {
    // Load first so an empty run_next costs no write (no cache-line
    // ownership change). Relaxed: the exchange below re-reads it.
    if (run_next_.load(base::MemoryOrder::kRelaxed) != nullptr) {
      // Relaxed would do (only this CPU stores non-null values); acquire
      // costs nothing on x86 and keeps the thread-state handoff obvious.
      // Null here means a thief took it meanwhile; fall through to the ring.
      if (T* next = run_next_.exchange(nullptr, base::MemoryOrder::kAcquire)) return next;
    }
    for (;;) {
      // Acquire: see the class comment; the owner consumes like a thief.
      uint32_t head = head_.load(base::MemoryOrder::kAcquire);
      const uint32_t tail = tail_.load(base::MemoryOrder::kRelaxed);  // our own
      if (tail == head) return nullptr;
      T* t = slots_[head & kMask].load(base::MemoryOrder::kRelaxed);
      // Release (uniform for every consuming CAS on head_; class comment).
      if (head_.compare_exchange(head, head + 1, base::MemoryOrder::kRelease, base::MemoryOrder::kRelaxed)) {
        ASSERT(t != nullptr);
        return t;
      }
    }
  }

  /// Owner only. Ring slots that a push could fill without spilling (exact
  /// for the owner up to concurrent steals, which only make it grow).
  uint32_t free_slots() const {
    // Acquire as in push(): slots counted free may be overwritten next.
    const uint32_t head = head_.load(base::MemoryOrder::kAcquire);
    const uint32_t tail = tail_.load(base::MemoryOrder::kRelaxed);
    return static_cast<uint32_t>(N) - (tail - head);
  }

  /// Any CPU. Queued threads, ring plus run_next: a snapshot that may be
  /// stale on return, always in [0, N + 1].
  size_t size() const {
    // Head first, then tail (acquire keeps the order): head never passes
    // tail, so the later tail is at least the earlier head. The difference
    // can still exceed N if the queue drained and refilled in between; clamp.
    const uint32_t head = head_.load(base::MemoryOrder::kAcquire);
    const uint32_t tail = tail_.load(base::MemoryOrder::kAcquire);
    uint32_t n = tail - head;
    if (n > N) n = N;
    return n + (run_next_.load(base::MemoryOrder::kRelaxed) != nullptr ? 1 : 0);
  }

  /// Any CPU; a hint like size(), and cheaper: no fill level to compute.
  /// Relaxed: a hint orders nothing (whoever acts on it pops, and pop()
  /// acquires), and the owner's scheduler reads it on every pick.
  bool empty() const {
    const uint32_t head = head_.load(base::MemoryOrder::kRelaxed);
    const uint32_t tail = tail_.load(base::MemoryOrder::kRelaxed);
    return tail == head && run_next_.load(base::MemoryOrder::kRelaxed) == nullptr;
  }

  /// Any CPU; hints. The free-running counts of ring elements consumed
  /// (head) and produced (tail), run_next aside: the element produced as
  /// number i is still queued while head_index() <= i (mod 2^32).
  uint32_t head_index() const { return head_.load(base::MemoryOrder::kRelaxed); }
  uint32_t tail_index() const { return tail_.load(base::MemoryOrder::kRelaxed); }

  /// Any CPU; a hint. Whether run_next holds a thread.
  bool has_run_next() const { return run_next_.load(base::MemoryOrder::kRelaxed) != nullptr; }

 private:
  template <typename U, size_t M, typename Backoff>
  friend U* steal_into(LocalRunQueue<U, M>& victim, LocalRunQueue<U, M>* own, StealRunNext run_next, Backoff&& backoff);
  template <typename U, typename Lock, typename Link>
  friend class GlobalRunQueue;

  static constexpr uint32_t kMask = static_cast<uint32_t>(N - 1);

  // Slow path of push(): the ring is full (tail - head == N). Claims the
  // older half with one CAS, then chains it plus `t` and hands the chain to
  // `global`. False if the CAS lost to a consumer (there is room then).
  template <typename Lock, typename Link>
  bool spill(T* t, uint32_t head, uint32_t tail, GlobalRunQueue<T, Lock, Link>& global) {
    constexpr uint32_t kHalf = static_cast<uint32_t>(N / 2);
    ASSERT_MSG(tail - head == N, "runqueue: spill from a ring that is not full ({} of {})", tail - head, N);
    // Release, as every consuming CAS. Claiming before reading is safe here
    // (Go reads first): only the owner — us — ever writes slots, so the
    // claimed slots keep their contents until our next push, and no other
    // consumer will use them once head_ has moved past them.
    if (!head_.compare_exchange(head, head + kHalf, base::MemoryOrder::kRelease, base::MemoryOrder::kRelaxed)) {
      return false;
    }
    // The batch is ours now: link it outside the global lock.
    T* first = slots_[head & kMask].load(base::MemoryOrder::kRelaxed);
    T* prev = first;
    for (uint32_t i = 1; i < kHalf; ++i) {
      T* cur = slots_[(head + i) & kMask].load(base::MemoryOrder::kRelaxed);
      Link::set_next(prev, cur);
      prev = cur;
    }
    Link::set_next(prev, t);
    global.push_batch(first, t, kHalf + 1);
    return true;
  }

  // Owner only. Appends the `n` threads chained from `first` (via Link) to
  // the ring with one tail store; the caller has checked n <= free_slots().
  template <typename Link>
  void push_chain(T* first, uint32_t n) {
    // Relaxed/acquire as in push().
    const uint32_t tail = tail_.load(base::MemoryOrder::kRelaxed);
    const uint32_t head = head_.load(base::MemoryOrder::kAcquire);
    ASSERT_MSG(n <= N - (tail - head), "runqueue: chain of {} overflows {} free slots", n, N - (tail - head));
    T* t = first;
    for (uint32_t i = 0; i < n; ++i) {
      ASSERT(t != nullptr);
      slots_[(tail + i) & kMask].store(t, base::MemoryOrder::kRelaxed);
      t = Link::next(t);
    }
    // Release publishes the slots, as in push().
    tail_.store(tail + n, base::MemoryOrder::kRelease);
  }

  // head_ is CASed by every consumer, tail_ stored by the owner on each
  // push: separate cache lines so pushes and steals do not bounce one line.
  alignas(64) base::Atomic<uint32_t> head_{0};  // next slot to consume
  alignas(64) base::Atomic<uint32_t> tail_{0};  // next slot to fill; owner writes
  base::Atomic<T*> run_next_{nullptr};          // owner: any value; thieves: X -> null
  alignas(64) base::Atomic<T*> slots_[N] = {};
};

/// Thief side; the caller owns `own` (it runs on own's CPU, as an owner
/// operation of `own`). Moves half of `victim`'s ring, rounded up, to `own`
/// with one CAS on victim's head; returns one of the moved threads (the
/// newest) to run right away and appends the others to own's ring, oldest
/// first. nullptr if there was nothing to steal. Takes fewer if own's ring
/// has less room: at most free_slots() + 1.
///
/// run_next: only when victim's ring is empty and `run_next` is kYes does
/// the thief take victim's run_next. Go does this only on its last stealing
/// pass and only from a victim that is running, after sleeping ~3 us: the
/// victim usually just woke that thread (e.g. the other end of a channel)
/// and is about to run it cache-hot, so stealing it at once would bounce it
/// between CPUs. The queue cannot know whether the victim CPU is running or
/// what a sensible wait is in the caller's context (the kernel idle loop vs.
/// a host test), so that policy belongs to the caller: `backoff()` is called
/// once between seeing a non-null run_next and the CAS that takes it, and
/// the CAS fails (and the ring is looked at again) if the victim ran or
/// replaced it meanwhile. Pass NoBackoff for a victim known idle.
template <typename T, size_t N, typename Backoff>
T* steal_into(LocalRunQueue<T, N>& victim, LocalRunQueue<T, N>* own, StealRunNext run_next, Backoff&& backoff) {
  using base::MemoryOrder;
  using Q = LocalRunQueue<T, N>;
  ASSERT_MSG(&victim != own, "runqueue: a CPU cannot steal from itself");
  // Our own ring: free space only grows while we work (only we push, thieves
  // only consume), so one look at it bounds the whole steal.
  const uint32_t own_tail = own->tail_.load(MemoryOrder::kRelaxed);
  const uint32_t room = own->free_slots();
  for (;;) {
    // Acquire on head: pairs with other consumers' release CAS (not needed
    // for correctness of what we read — tail's acquire is — but it keeps the
    // tail load after the head load, so tail - head never underflows).
    uint32_t head = victim.head_.load(MemoryOrder::kAcquire);
    // Acquire pairs with the victim owner's release store of tail_: the
    // slots below tail hold the elements published with it.
    const uint32_t tail = victim.tail_.load(MemoryOrder::kAcquire);
    uint32_t n = tail - head;
    n -= n / 2;  // half, rounded up
    if (n == 0) {
      if (run_next == StealRunNext::kNo) return nullptr;
      T* next = victim.run_next_.load(MemoryOrder::kRelaxed);
      if (next == nullptr) return nullptr;
      backoff();
      // Acquire pairs with the owner's release exchange in push(): the
      // thread's state is visible. The pointer may have been popped and
      // pushed again meanwhile (ABA); harmless, since whoever moves it out
      // of run_next owns it and it is runnable either way.
      if (victim.run_next_.compare_exchange(next, nullptr, MemoryOrder::kAcquire, MemoryOrder::kRelaxed)) {
        return next;
      }
      continue;  // the victim ran or replaced it; look at the ring again
    }
    // head and tail were read at different times; if the victim consumed
    // and refilled in between, tail - head can exceed N. Re-read.
    if (n > N / 2) continue;
    if (n > room + 1) n = room + 1;
    // Copy into own's slots beyond its tail: invisible to own's thieves
    // until the tail store, and within own's free space (n - 1 <= room).
    for (uint32_t i = 0; i + 1 < n; ++i) {
      own->slots_[(own_tail + i) & Q::kMask].store(victim.slots_[(head + i) & Q::kMask].load(MemoryOrder::kRelaxed),
                                                   MemoryOrder::kRelaxed);
    }
    T* t = victim.slots_[(head + n - 1) & Q::kMask].load(MemoryOrder::kRelaxed);
    // Release: our slot reads above happen before the victim owner, which
    // acquire-loads head_, reuses those slots (class comment). If the CAS
    // fails, what we copied may be stale; it was never published.
    if (victim.head_.compare_exchange(head, head + n, MemoryOrder::kRelease, MemoryOrder::kRelaxed)) {
      ASSERT(t != nullptr);
      // Release publishes the copied slots to own's consumers.
      if (n > 1) own->tail_.store(own_tail + n - 1, MemoryOrder::kRelease);
      return t;
    }
  }
}

/// The scheduler's shared FIFO: an intrusive singly linked list under
/// `Lock` (BasicLockable: lock()/unlock(); the kernel's SpinLock, or
/// std::mutex on the host). Receives the per-CPU rings' overflow and threads
/// with no CPU preference, and feeds idle CPUs in batches.
template <typename T, typename Lock, typename Link>
class GlobalRunQueue {
 public:
  using LinkTraits = Link;

  /// `ncpu` sizes pop_batch_into's batches (Go's gomaxprocs); 0 counts as 1.
  constexpr explicit GlobalRunQueue(uint32_t ncpu = 1) : ncpu_(ncpu == 0 ? 1 : ncpu) {}
  GlobalRunQueue(const GlobalRunQueue&) = delete;
  GlobalRunQueue& operator=(const GlobalRunQueue&) = delete;

  /// Updates the CPU count used to size batches (e.g. after SMP bring-up).
  void set_ncpu(uint32_t ncpu) EXCLUDES(lock_) {
    ASSERT(ncpu > 0);
    Guard g(lock_);
    ncpu_ = ncpu;
  }

  /// Appends one thread.
  void push(T* t) EXCLUDES(lock_) {
    ASSERT(t != nullptr);
    Link::set_next(t, nullptr);
    push_batch(t, t, 1);
  }

  /// Appends the `n` threads chained from `first` to `last` through Link,
  /// in order, under one lock acquisition. last's link is overwritten.
  void push_batch(T* first, T* last, size_t n) EXCLUDES(lock_) {
    ASSERT(first != nullptr && last != nullptr && n > 0);
    Link::set_next(last, nullptr);
    Guard g(lock_);
    if (tail_ != nullptr) {
      Link::set_next(tail_, first);
    } else {
      head_ = first;
    }
    tail_ = last;
    set_size(count_ + n);
  }

  /// Takes the oldest thread; nullptr if empty.
  T* pop() EXCLUDES(lock_) {
    // Lock-free early out for idle CPUs polling; a stale zero only delays.
    if (size() == 0) return nullptr;
    Guard g(lock_);
    T* t = head_;
    if (t == nullptr) return nullptr;
    head_ = Link::next(t);
    if (head_ == nullptr) tail_ = nullptr;
    set_size(count_ - 1);
    return t;
  }

  /// Owner of `local` only. Go's globrunqget: takes n = min(size,
  /// size/ncpu + 1, max if max > 0, N/2) threads, oldest first; returns
  /// the first to run now and appends the rest to local's ring. Also capped
  /// by local's free space, so it never spills back here. nullptr if empty.
  template <size_t N>
  T* pop_batch_into(LocalRunQueue<T, N>& local, size_t max = 0) EXCLUDES(lock_) {
    if (size() == 0) return nullptr;
    const size_t room = local.free_slots();
    T* first;
    T* rest;
    size_t n;
    {
      Guard g(lock_);
      if (count_ == 0) return nullptr;
      n = count_ / ncpu_ + 1;
      if (n > count_) n = count_;
      if (max > 0 && n > max) n = max;
      if (n > N / 2) n = N / 2;
      if (n > room + 1) n = room + 1;
      // Detach the first n; the walk is O(n) <= N/2, under the lock.
      first = head_;
      T* last = first;
      for (size_t i = 1; i < n; ++i) last = Link::next(last);
      head_ = Link::next(last);
      if (head_ == nullptr) tail_ = nullptr;
      set_size(count_ - n);
      rest = Link::next(first);
      // No need to cut last's link: push_chain reads exactly n - 1 links.
    }
    // The detached chain is ours; fill the ring outside the lock.
    if (n > 1) local.template push_chain<Link>(rest, static_cast<uint32_t>(n - 1));
    return first;
  }

  /// Any context, lock-free: a hint, possibly stale on return.
  size_t size() const {
    // Relaxed: a hint; callers that act on it retake the lock.
    return size_.load(base::MemoryOrder::kRelaxed);
  }
  bool empty() const { return size() == 0; }

 private:
  class SCOPED_CAPABILITY Guard {
   public:
    explicit Guard(Lock& l) ACQUIRE(l) : l_(l) { l_.lock(); }
    ~Guard() RELEASE() { l_.unlock(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Lock& l_;
  };

  void set_size(size_t n) REQUIRES(lock_) {
    ASSERT_MSG((n == 0) == (head_ == nullptr), "global runqueue: count {} disagrees with list", n);
    count_ = n;
    // Relaxed: size() is only a hint (see there).
    size_.store(n, base::MemoryOrder::kRelaxed);
  }

  Lock lock_;
  T* head_ GUARDED_BY(lock_) = nullptr;
  T* tail_ GUARDED_BY(lock_) = nullptr;
  size_t count_ GUARDED_BY(lock_) = 0;
  uint32_t ncpu_ GUARDED_BY(lock_);
  base::Atomic<size_t> size_{0};  // mirrors count_ for lock-free readers
};

}  // namespace sched
