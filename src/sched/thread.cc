// Threads: descriptors, stacks, spawn/join/detach/exit, sleep and the
// list the monitor reads (see thread.h).
#include "src/sched/thread.h"

#include "src/arch/clock.h"
#include "src/arch/percpu.h"
#include "src/arch/spinlock.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/placement_new.h"
#include "src/mm/alloc_map.h"
#include "src/mm/kmalloc.h"
#include "src/mm/kva.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"
#include "src/sched/sched_cpu.h"
#include "src/sched/switch.h"
#include "src/sched/timer.h"

namespace sched {

void make_runnable_new(Thread* t);  // scheduler.cc
void wake_sleeper(Thread* t);       // scheduler.cc

namespace {

using base::MemoryOrder;

constexpr uint64_t kGuardSize = base::kPageSize;
// Free stacks kept mapped for the next spawn (per size): spawn+join then
// costs no page-table work. Beyond this they are unmapped and returned.
constexpr size_t kStackCacheMax = 64;

// exit_flags. Who frees a thread is settled by the order of two
// fetch_ors on this word: exit's kExited and detach's kDetached. Whoever
// comes second owns the release: detach() if the thread had exited, else
// the thread itself (kSelfReap, read after its final switch).
enum : uint32_t { kExited = 1, kDetached = 2, kJoined = 4, kSelfReap = 8 };

struct CachedStack {
  CachedStack* next;  // stored at the stack's lowest word while cached
};

// Two locks: spawn takes lock_ for a descriptor and a stack and then
// list_lock_ to link; release takes lock_ with list_lock_ nested inside
// (the only order both are ever held in) to unlink; walks of every thread (rt's
// drains, cpu_offline's unpinning, the monitor) take only list_lock_. One
// lock for both once made every spawn and join wait out each walk, and
// with 16 vCPUs on 2 host cores a walk whose vCPU the host preempted held
// every spawner on the ticket for the host's time slice (a lock convoy).
constinit arch::SpinLock lock_;       // descriptors' free list, tids, stack cache
constinit arch::SpinLock list_lock_;  // the list of all threads
constinit Thread* free_threads_ GUARDED_BY(lock_) = nullptr;
constinit uint32_t next_tid_ GUARDED_BY(lock_) = 1;  // tids of descriptors ever made: 1, 2, ...
constinit Thread* all_ GUARDED_BY(list_lock_) = nullptr;
// Counts read without a lock (thread_count, thread_descriptors): written
// under their locks, relaxed (a count is a snapshot either way).
constinit base::Atomic<size_t> live_{0};
constinit base::Atomic<size_t> descriptors_{0};
constinit CachedStack* stack_cache_ GUARDED_BY(lock_) = nullptr;  // stacks of kDefaultStackSize only
constinit size_t stack_cache_size_ GUARDED_BY(lock_) = 0;

void copy_name(Thread* t, const char* name) {
  size_t i = 0;
  for (; name != nullptr && name[i] != '\0' && i + 1 < Thread::kNameLen; ++i) t->name[i] = name[i];
  t->name[i] = '\0';
}

// Whether `cpu` takes new threads: active and scheduling. Under list_lock_ in
// new_descriptor, which is what makes it race-free (see there).
bool cpu_accepts_binding(arch::CpuIndex cpu) {
  const CpuSched& c = sched_of(cpu);
  return __atomic_load_n(&c.running, __ATOMIC_RELAXED) && c.presence.load(MemoryOrder::kSeqCst) == kCpuActive;
}

// A descriptor off the free list, or null.
Thread* pop_free_descriptor() REQUIRES(lock_) {
  Thread* t = free_threads_;
  if (t != nullptr) free_threads_ = t->free_next;
  return t;
}

// A mapped default-size stack off the cache, or 0.
uint64_t pop_cached_stack() REQUIRES(lock_) {
  CachedStack* s = stack_cache_;
  if (s == nullptr) return 0;
  stack_cache_ = s->next;
  --stack_cache_size_;
  return reinterpret_cast<uint64_t>(s);
}

// Caches the stack at `lo` if it is of the default size and the cache has
// room; false if the caller must unmap it.
bool push_cached_stack(uint64_t lo, uint64_t bytes) REQUIRES(lock_) {
  if (bytes != kDefaultStackSize || stack_cache_size_ >= kStackCacheMax) return false;
  auto* s = reinterpret_cast<CachedStack*>(lo);
  s->next = stack_cache_;
  stack_cache_ = s;
  ++stack_cache_size_;
  return true;
}

// Puts a descriptor new_descriptor took back on the free list (it was
// never linked into the list of all threads).
void unlink_unused_descriptor(Thread* t) REQUIRES(lock_) {
  t->free_next = free_threads_;
  free_threads_ = t;
}

// What rt leaves in a thread's reservation between reservations and at
// exit: nothing (heap_charge.h's fields, all zero).
[[maybe_unused]] bool reservation_is_clean(const mm::HeapCharge& r) {
  return r.limit == mm::HeapClassCounts{} && r.used == mm::HeapClassCounts{} && r.peak == mm::HeapClassCounts{} &&
         r.overruns == 0 && r.touched == 0 && !r.per_cpu;
}

// A descriptor, reused or new, with `affinity` and linked into the list of
// all threads; kOutOfMemory, or kInvalidArgument if the one CPU it allows
// does not take threads.
//
// The CPU is checked in the same critical section that links the thread
// bound to it, because cpu_offline's unpinning walks that list under the
// same lock after marking the CPU leaving: either the link comes first and
// the walk unbinds the thread, or the walk comes first and the check here
// sees the mark. Checking earlier (spawn once did, with plain loads) left a
// window: a spawner that checked before the mark and stalled (waiting for
// this lock, or its vCPU preempted by the host) across both of
// cpu_offline's passes bound its thread to a parked CPU for good once the
// thread blocked (the torture's "a thread is still bound to an offline
// CPU"), and rt's drain_all_cpus, joining it, waited on a thread the
// torture's gate never saw park.
//
// `new Thread` without parentheses: default-initialisation runs the
// members' initialisers (every member has one) and nothing else. With
// `Thread()` the compiler first zeroed all 640 bytes, then wrote the
// initialisers over them: under -icount, where each REP STOS iteration is
// an instruction, that was 95 of a spawn+join's 1,044.
//
// `reused`: a descriptor the caller already took off the free list (spawn
// takes it in the critical section that takes its stack), or null to take
// one here.
base::Result<Thread*> new_descriptor(const char* name, Affinity affinity, Thread* reused = nullptr) {
  Thread* t = reused;
  if (t == nullptr) {
    arch::SpinLockGuard g(lock_);
    t = pop_free_descriptor();
  }
  uint32_t tid = 0;
  if (t == nullptr) {
    void* mem = mm::kmalloc(sizeof(Thread));
    if (mem == nullptr) return base::Error::kOutOfMemory;
    arch::SpinLockGuard g(lock_);
    tid = next_tid_++;
    ASSERT_MSG(tid < (1u << 31), "sched: thread ids exhausted");  // Mutex packs tid << 1 into 32 bits
    descriptors_.fetch_add(1, MemoryOrder::kRelaxed);
    t = new (mem) Thread;
    new (&t->reservation) mm::HeapCharge();
  } else {
    tid = t->tid;
    t->~Thread();
    t = new (t) Thread;  // `reservation` stays as rt left it: clean
    DEBUG_ASSERT(reservation_is_clean(t->reservation));
  }
  t->tid = tid;
  copy_name(t, name);
  t->affinity.store(affinity, MemoryOrder::kRelaxed);  // published by the lock
  {
    arch::SpinLockGuard g(list_lock_);
    if (affinity.is_any() || cpu_accepts_binding(affinity.cpu())) {
      t->all_next = all_;
      if (all_ != nullptr) all_->all_prev = t;
      all_ = t;
      live_.fetch_add(1, MemoryOrder::kRelaxed);
      return t;
    }
  }
  arch::SpinLockGuard g(lock_);
  unlink_unused_descriptor(t);
  return base::Error::kInvalidArgument;
}

// Unlinks `t` from the list of all threads and puts it on the free list.
// list_lock_ nests inside lock_ (the one place both are held): release()
// then pays one interrupt-off section for the descriptor and the stack,
// and the nested acquisition no push_cli/pop_cli of its own.
void free_descriptor_locked(Thread* t) REQUIRES(lock_) {
  {
    list_lock_.lock_nested(lock_);
    if (t->all_prev != nullptr)
      t->all_prev->all_next = t->all_next;
    else
      all_ = t->all_next;
    if (t->all_next != nullptr) t->all_next->all_prev = t->all_prev;
    live_.fetch_sub(1, MemoryOrder::kRelaxed);
    list_lock_.unlock_nested(lock_);
  }
  // Type-stable: never back to the heap (thread.h).
  t->free_next = free_threads_;
  free_threads_ = t;
}

uint64_t round_stack(size_t bytes) { return (bytes + base::kPageSize - 1) & ~(base::kPageSize - 1); }

// A mapped stack of `bytes` with an unmapped guard page below it; returns
// its lowest usable address.
base::Result<uint64_t> map_stack(uint64_t bytes) {
  base::Result<base::VirtAddr> va = mm::kva_alloc(bytes + kGuardSize);
  if (!va.ok()) return va.error();
  const base::VirtAddr lo = va.value() + kGuardSize;
  base::Status s = mm::alloc_map_range(lo, bytes, mm::kPermWrite);
  if (!s.ok()) {
    (void)mm::kva_free(va.value(), bytes + kGuardSize);
    return s.error();
  }
  return lo.value();
}

// A stack of `bytes`: a cached one if it has the default size and the
// cache holds one, else a new mapping.
base::Result<uint64_t> alloc_stack(uint64_t bytes) {
  if (bytes == kDefaultStackSize) {
    arch::SpinLockGuard g(lock_);
    if (uint64_t lo = pop_cached_stack(); lo != 0) return lo;
  }
  return map_stack(bytes);
}

void unmap_stack(uint64_t lo, uint64_t bytes) {
  base::Status s = mm::unmap_range(base::VirtAddr(lo), bytes);
  ASSERT_MSG(s.ok(), "sched: unmapping a stack at {:#x}: {}", lo, base::error_name(s.error()));
  s = mm::kva_free(base::VirtAddr(lo - kGuardSize), bytes + kGuardSize);
  ASSERT_MSG(s.ok(), "sched: freeing a stack's range at {:#x}: {}", lo - kGuardSize, base::error_name(s.error()));
}

void free_stack(uint64_t lo, uint64_t bytes) {
  {
    arch::SpinLockGuard g(lock_);
    if (push_cached_stack(lo, bytes)) return;
  }
  unmap_stack(lo, bytes);
}

// The end of a thread that nobody will touch again: its CPU has left its
// stack (on_cpu == 0). Thread context, interrupts on. The descriptor and
// the stack go back in one critical section (a lock round trip is some 45
// instructions, a fifth of a spawn+join): the stack's bounds are read
// first, since once on the free list the descriptor is another spawn's.
void release(Thread* t) {
  while (t->on_cpu.load(MemoryOrder::kAcquire) != 0) arch::cpu_relax();
  const uint64_t lo = t->stack_lo;
  const uint64_t bytes = t->stack_hi - t->stack_lo;
  bool cached;
  {
    arch::SpinLockGuard g(lock_);
    cached = push_cached_stack(lo, bytes);
    free_descriptor_locked(t);
  }
  if (!cached) unmap_stack(lo, bytes);
}

// Detached threads that exited, waiting for thread context to free them
// (their end is noticed in the middle of a switch, interrupts off).
constinit base::Atomic<Thread*> reap_list_{nullptr};

void drain_reap_list() {
  Thread* t = reap_list_.exchange(nullptr, MemoryOrder::kAcquire);
  while (t != nullptr) {
    Thread* next = t->free_next;
    release(t);
    t = next;
  }
}

Thread* self() { return current(); }

}  // namespace

const char* state_name(ThreadState s) {
  switch (s) {
    case ThreadState::kRunnable:
      return "runnable";
    case ThreadState::kRunning:
      return "running";
    case ThreadState::kBlocked:
      return "blocked";
    case ThreadState::kSleeping:
      return "sleeping";
    case ThreadState::kDead:
      return "dead";
  }
  return "?";
}

Thread* adopt_boot_thread(const char* name, uint64_t stack_lo, uint64_t stack_hi) {
  base::Result<Thread*> d = new_descriptor(name, Affinity::any());
  ASSERT_MSG(d.ok(), "sched: no memory for the boot thread");
  Thread* t = d.value();
  t->stack_lo = stack_lo;
  t->stack_hi = stack_hi;
  t->state.store(static_cast<uint32_t>(ThreadState::kRunning), MemoryOrder::kRelaxed);
  t->exit_flags.store(kDetached, MemoryOrder::kRelaxed);  // never joined, never exits
  return t;
}

Thread* adopt_idle_context(arch::CpuIndex cpu) {
  // Bound after the link: the CPU is not scheduling yet (and an idle
  // thread is never unpinned).
  base::Result<Thread*> d = new_descriptor("idle", Affinity::any());
  ASSERT_MSG(d.ok(), "sched: no memory for cpu {}'s idle thread", cpu.value);
  Thread* t = d.value();
  t->affinity.store(Affinity::only(cpu), MemoryOrder::kRelaxed);
  t->last_cpu = cpu;
  t->state.store(static_cast<uint32_t>(ThreadState::kRunning), MemoryOrder::kRelaxed);
  t->exit_flags.store(kDetached, MemoryOrder::kRelaxed);
  return t;
}

Thread* make_idle_thread(arch::CpuIndex cpu, ThreadFn fn) {
  Thread* t = adopt_idle_context(cpu);
  base::Result<uint64_t> lo = alloc_stack(kDefaultStackSize);
  ASSERT_MSG(lo.ok(), "sched: no stack for cpu {}'s idle thread", cpu.value);
  t->stack_lo = lo.value();
  t->stack_hi = lo.value() + kDefaultStackSize;
  t->fn = fn;
  t->saved_rsp = initial_stack(t->stack_hi);
  return t;
}

base::Result<Thread*> spawn(ThreadFn fn, void* arg, const ThreadOptions& options) {
  if (fn == nullptr || options.stack_size < kMinStackSize || options.stack_size > kMaxStackSize)
    return base::Error::kInvalidArgument;
  if (!options.affinity.is_any() && options.affinity.cpu().value >= sched_cpus()) return base::Error::kInvalidArgument;
  // Whether that CPU takes threads is checked once, by new_descriptor,
  // where it counts: an early look here too cost every spawn 20
  // instructions to spare the rare refused one a stack taken and given back.
  drain_reap_list();
  uint64_t bytes = round_stack(options.stack_size);
  // A free descriptor and a cached stack in one critical section: with
  // new_descriptor's, which links the thread, two lock round trips a spawn.
  Thread* reused;
  uint64_t cached_lo = 0;
  {
    arch::SpinLockGuard g(lock_);
    reused = pop_free_descriptor();
    if (bytes == kDefaultStackSize) cached_lo = pop_cached_stack();
  }
  base::Result<uint64_t> lo = cached_lo != 0 ? base::Result<uint64_t>(cached_lo) : map_stack(bytes);
  if (!lo.ok()) {
    if (reused != nullptr) {
      arch::SpinLockGuard g(lock_);
      unlink_unused_descriptor(reused);
    }
    return lo.error();
  }
  base::Result<Thread*> d = new_descriptor(options.name, options.affinity, reused);
  if (!d.ok()) {
    free_stack(lo.value(), bytes);
    return d.error();
  }
  Thread* t = d.value();
  t->fn = fn;
  t->arg = arg;
  t->stack_lo = lo.value();
  t->stack_hi = lo.value() + bytes;
  t->saved_rsp = initial_stack(t->stack_hi);
  t->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelease);
  make_runnable_new(t);
  return t;
}

extern "C" void thread_first_run(Thread* prev) {
  finish_switch(prev);
  arch::sti();
  Thread* me = self();
  me->fn(me->arg);
  exit();
}

// Joined threads are freed by their joiner, and one detached after its exit
// by detach(); one detached before it is queued here, after its last
// switch, for the next spawn or join to free.
bool reaps_itself(const Thread* t) { return (t->exit_flags.load(MemoryOrder::kAcquire) & kSelfReap) != 0; }

void queue_for_reaping(Thread* t) {
  Thread* head = reap_list_.load(MemoryOrder::kRelaxed);
  do {
    t->free_next = head;
  } while (!reap_list_.compare_exchange(head, t, MemoryOrder::kRelease, MemoryOrder::kRelaxed));
}

namespace {
constinit base::Atomic<ParkedExitHook> parked_exit_hook_{nullptr};
}  // namespace

void set_parked_exit_hook(ParkedExitHook hook) { parked_exit_hook_.store(hook, MemoryOrder::kRelease); }

void exit() {
  Thread* me = self();
  // Only this thread makes its parking word nonzero, so a 0 word read here
  // stays 0: nothing to hand back.
  if (__builtin_expect((me->reserve_parked.load(MemoryOrder::kRelaxed) | me->reserve_parked_hits) != 0, 0)) {
    ParkedExitHook hook = parked_exit_hook_.load(MemoryOrder::kAcquire);
    ASSERT_MSG(hook != nullptr, "thread {} '{}' parked heap credit with no exit hook set", me->tid, me->name);
    hook(me);
  }
  // Its credit would be lost from the heap budget for good.
  if (me->heap_charge != nullptr) PANIC("thread {} '{}' exits holding a heap reservation", me->tid, me->name);
  (void)enter_blocking("exit");
  me->state.store(static_cast<uint32_t>(ThreadState::kDead), MemoryOrder::kRelease);
  // Dekker with join(): joiner stores `joiner` then reads kExited; we set
  // kExited then read `joiner`. Both read-modify-writes are full barriers,
  // so one of us sees the other.
  uint32_t flags = me->exit_flags.fetch_or(kExited, MemoryOrder::kSeqCst);
  if (flags & kDetached) {
    // Nobody else will touch it: only this thread reads kSelfReap.
    me->exit_flags.fetch_or(kSelfReap, MemoryOrder::kRelaxed);
  } else {
    Thread* j = me->joiner.exchange(nullptr, MemoryOrder::kSeqCst);
    if (j != nullptr) wake(j);
  }
  ++me->voluntary;
  schedule_away(this_sched(), me);
  PANIC("sched: dead thread '{}' ran again", me->name);
}

void join(Thread* t) {
  ASSERT_MSG(t != self(), "join: thread '{}' joining itself", t->name);
  uint32_t flags = t->exit_flags.fetch_or(kJoined, MemoryOrder::kAcqRel);
  ASSERT_MSG((flags & (kDetached | kJoined)) == 0, "join: thread '{}' is {}", t->name,
             (flags & kDetached) ? "detached" : "already joined");
  Thread* me = self();
  t->joiner.exchange(me, MemoryOrder::kSeqCst);
  block_until([&] { return (t->exit_flags.load(MemoryOrder::kSeqCst) & kExited) != 0; });
  release(t);
  drain_reap_list();
}

void detach(Thread* t) {
  uint32_t flags = t->exit_flags.fetch_or(kDetached, MemoryOrder::kAcqRel);
  ASSERT_MSG((flags & (kDetached | kJoined)) == 0, "detach: thread '{}' is {}", t->name,
             (flags & kDetached) ? "already detached" : "being joined");
  if (flags & kExited) release(t);  // it ended first and left itself to us
}

namespace {
void on_sleep_timer(Timer&, void* arg) {
  auto* t = static_cast<Thread*>(arg);
  t->sleep_fired.store(1, MemoryOrder::kRelease);
  wake_sleeper(t);
}
}  // namespace

void sleep_until(uint64_t deadline_ns) {
  assert_may_block("sleep");  // also when the deadline has passed: the caller is wrong either way
  Thread* me = self();
  while (arch::nanotime() < deadline_ns) {
    uint64_t flags = enter_blocking("sleep");
    me->sleep_fired.store(0, MemoryOrder::kRelaxed);
    // kSleeping before arming: a timer homed on another CPU may fire at once.
    me->state.store(static_cast<uint32_t>(ThreadState::kSleeping), MemoryOrder::kSeqCst);
    me->sleep_timer.set_callback(on_sleep_timer, me);
    timer_arm(me->sleep_timer, deadline_ns);
    ++me->voluntary;
    schedule_away(this_sched(), me);
    arch::irq_restore(flags);
    ASSERT_MSG(me->sleep_fired.load(MemoryOrder::kAcquire) != 0, "sched: '{}' woke from sleep before its timer",
               me->name);
  }
}

void sleep_for(uint64_t ns) { sleep_until(arch::nanotime() + ns); }

base::Status set_affinity(Thread* t, Affinity affinity) {
  if (affinity.is_any()) {
    t->affinity.store(affinity, MemoryOrder::kRelease);
    return base::Status::Ok();
  }
  const arch::CpuIndex cpu = affinity.cpu();
  if (cpu.value >= sched_cpus() || !cpu_takes_threads(cpu)) return base::Error::kInvalidArgument;
  Affinity old = t->affinity.exchange(affinity, MemoryOrder::kSeqCst);
  // Dekker with cpu_offline, which marks the CPU leaving and then unpins
  // every thread bound to it: either it sees our store, or we see its mark
  // here and take the store back (unless it already unpinned us).
  if (!cpu_takes_threads(cpu)) {
    (void)t->affinity.compare_exchange(affinity, old, MemoryOrder::kAcqRel, MemoryOrder::kRelaxed);
    return base::Error::kInvalidArgument;
  }
  return base::Status::Ok();
}

ThreadStats thread_stats(const Thread* t) {
  ThreadStats s;
  uint64_t tsc = __atomic_load_n(&t->run_tsc, __ATOMIC_RELAXED);
  s.run_ns = arch::tsc_to_ns(tsc);
  s.voluntary = __atomic_load_n(&t->voluntary, __ATOMIC_RELAXED);
  s.involuntary = __atomic_load_n(&t->involuntary, __ATOMIC_RELAXED);
  s.last_cpu = arch::CpuIndex(__atomic_load_n(&t->last_cpu.value, __ATOMIC_RELAXED));
  return s;
}

size_t for_each_thread(void (*fn)(const Thread& t, void* arg), void* arg) {
  arch::SpinLockGuard g(list_lock_);
  size_t n = 0;
  for (Thread* t = all_; t != nullptr; t = t->all_next, ++n) fn(*t, arg);
  return n;
}

size_t unpin_threads_bound_to(arch::CpuIndex index, void (*fn)(const Thread& t, void* arg), void* arg) {
  arch::SpinLockGuard g(list_lock_);
  size_t n = 0;
  const Thread* idle = sched_of(index).idle;  // parks the CPU: stays bound
  for (Thread* t = all_; t != nullptr; t = t->all_next) {
    if (t == idle) continue;
    Affinity expected = Affinity::only(index);
    if (!t->affinity.compare_exchange(expected, Affinity::any(), MemoryOrder::kAcqRel, MemoryOrder::kRelaxed)) continue;
    ++n;
    if (fn != nullptr) fn(*t, arg);
  }
  return n;
}

void reap_exited() { drain_reap_list(); }

size_t thread_descriptors() { return descriptors_.load(MemoryOrder::kRelaxed); }

size_t thread_count() { return live_.load(MemoryOrder::kRelaxed); }

LockHint thread_list_lock_hint() { return {list_lock_.holder_hint(), list_lock_.waiters_hint()}; }

LockHint thread_pool_lock_hint() { return {lock_.holder_hint(), lock_.waiters_hint()}; }

bool find_current_thread_stack(uint64_t addr, ThreadStackInfo* out) {
  if (arch::this_cpu().sched == nullptr) return false;
  Thread* t = self();
  if (t == nullptr || t->stack_hi == 0) return false;
  if (addr < t->stack_lo - kGuardSize || addr >= t->stack_hi) return false;
  *out = ThreadStackInfo{t->stack_lo, t->stack_hi, addr < t->stack_lo, t->name};
  return true;
}

}  // namespace sched
