// Kernel threads: spawn, join, detach, exit, current, yield, sleep.
//
// Any number of threads — no table; each is a descriptor plus a guarded
// stack from the kernel VA allocator. A thread is in one state at a time:
//
//   runnable --pick--> running --yield/preempt--> runnable
//                      running --block--> blocked --wake--> runnable
//                      running --sleep--> sleeping --timer--> runnable
//                      running --exit--> dead (joined or detached: reaped)
//
// Descriptors are type-stable: a reaped descriptor goes back to a free list
// and is only ever reused as another Thread, never returned to the heap. A
// waker that read a thread pointer before the thread exited (a futex wake
// races with the waiter's return, see futex_table.h) can therefore at worst
// wake a later sleep of the reused descriptor spuriously, which every
// blocking loop tolerates by rechecking its condition — the same choice as
// Linux's SLAB_TYPESAFE_BY_RCU task cache. The free list is bounded by the
// peak number of threads alive at once; stacks, the large part, are cached
// up to a bound and otherwise returned.
//
// Contexts: thread context unless noted; nothing here may be called with a
// SpinLock held or interrupts off when it can block (join, yield, sleep) —
// that is a panic, not a hang.
#pragma once

#include "src/arch/percpu.h"
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/heap_charge.h"
#include "src/sched/affinity.h"
#include "src/sched/timer_queue.h"

namespace sched {

inline constexpr size_t kDefaultStackSize = 16 * 1024;
inline constexpr size_t kMinStackSize = 4 * 1024;
inline constexpr size_t kMaxStackSize = 1024 * 1024;

enum class ThreadState : uint32_t { kRunnable, kRunning, kBlocked, kSleeping, kDead };
const char* state_name(ThreadState s);

using ThreadFn = void (*)(void* arg);

struct ThreadOptions {
  const char* name = "thread";            // copied (truncated to kNameLen - 1)
  Affinity affinity = Affinity::any();    // run only on one CPU, or anywhere
  size_t stack_size = kDefaultStackSize;  // rounded up to pages
};

/// Per-thread counters, for the monitor and tests.
struct ThreadStats {
  uint64_t run_ns = 0;       // time on a CPU (TSC-measured at each switch)
  uint64_t voluntary = 0;    // switches away by yield, block or sleep
  uint64_t involuntary = 0;  // switches away by preemption
  arch::CpuIndex last_cpu;   // the CPU it last ran on
};

/// A kernel thread. The scheduler's fields are internal; outside sched use
/// the functions below. Layout: switch_context (switch.cc) reads saved_rsp
/// at offset 0 and clears on_cpu at offset 8.
struct Thread {
  static constexpr size_t kNameLen = 24;
  // Every member below has an initialiser: thread.cc builds descriptors
  // with `new Thread` (no zeroing pass), which relies on it.

  uint64_t saved_rsp = 0;  // the switched-out stack pointer
  // 1 + the CPU that claimed it, from being picked until that CPU has left
  // its stack; 0 when on no CPU. Claimed with an exchange that must find 0,
  // which proves (always on) that no two CPUs ever run the thread at once.
  base::Atomic<uint32_t> on_cpu{0};
  base::Atomic<uint32_t> state{static_cast<uint32_t>(ThreadState::kRunnable)};
  Thread* rq_next = nullptr;  // link in the global queue, a bound FIFO or an inbox
  AtomicAffinity affinity;
  uint32_t tid = 0;  // unique among live threads (descriptor number)

  ThreadFn fn = nullptr;
  void* arg = nullptr;

  // Stack: [stack_lo - guard, stack_lo) unmapped, [stack_lo, stack_hi) usable.
  uint64_t stack_lo = 0;
  uint64_t stack_hi = 0;

  // Join and detach: flag bits, and who waits.
  base::Atomic<uint32_t> exit_flags{0};
  base::Atomic<Thread*> joiner{nullptr};

  // The thread's own timer (sleep_until), and whether it fired.
  Timer sleep_timer;
  base::Atomic<uint32_t> sleep_fired{0};

  // Accounting.
  uint64_t switched_in_tsc = 0;
  uint64_t run_tsc = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
  arch::CpuIndex last_cpu;

  // rt's heap reservation: while the thread holds one, `heap_charge` points
  // at `reservation` and kmalloc charges it (the switch installs it in the
  // CPU block); null otherwise, when the CPU's own account is charged.
  mm::HeapCharge* heap_charge = nullptr;
  // The one member without an initialiser (a member of an anonymous union
  // has none, hence the constructor below): thread.cc constructs it zeroed
  // in a new descriptor, and a reused one keeps its last thread's, which rt
  // leaves clean, all zero, at every release and at exit (rt/reserve.cc's
  // give_back_at_exit; debug builds check it on reuse). Zeroing its 300
  // bytes again cost every spawn some 50 instructions.
  union {
    mm::HeapCharge reservation;
  };
  // rt's: set by rt::cancel_reserve so that this thread's waiting (or next)
  // reserve returns kCancelled (Biscuit's OOM killer checked a killed flag
  // before blocking).
  base::Atomic<uint32_t> reserve_cancelled{0};
  // rt's: the credit this thread parked between reservations, and how many
  // reserves it granted from it (rt/parked_credit.h; exit hands them to rt
  // through set_parked_exit_hook's hook).
  base::Atomic<uintptr_t> reserve_parked{0};
  uint64_t reserve_parked_hits = 0;

  // All live threads (for the monitor), under the thread-list lock.
  Thread* all_prev = nullptr;
  Thread* all_next = nullptr;
  Thread* free_next = nullptr;  // descriptor free list

  char name[kNameLen] = {};

  // User-provided, so that `new Thread` runs the initialisers above and
  // leaves `reservation` alone.
  Thread() {}

  ThreadState get_state() const { return static_cast<ThreadState>(state.load(base::MemoryOrder::kAcquire)); }
};

/// Starts fn(arg) in a new thread. kOutOfMemory when no stack or descriptor
/// can be had; kInvalidArgument for a null fn, a stack size out of
/// [kMinStackSize, kMaxStackSize] or a CPU that is not online.
base::Result<Thread*> spawn(ThreadFn fn, void* arg, const ThreadOptions& options = {});

/// Waits until `t` has exited, then frees it. Each thread is joined or
/// detached exactly once; joining oneself, a detached thread or twice panics.
void join(Thread* t);

/// Lets `t` free itself when it exits (at once if it already has).
void detach(Thread* t);

/// Ends the calling thread (as returning from its function does).
[[noreturn]] void exit();

/// Called by exit() first, in the exiting thread (thread context,
/// interrupts on), when the thread has rt's parked heap credit or a count
/// of reserves granted from it (reserve_parked, reserve_parked_hits), for rt
/// to take them back; a thread without either pays two loads. rt sets it
/// before any thread can park.
using ParkedExitHook = void (*)(Thread* self);
void set_parked_exit_hook(ParkedExitHook hook);

/// The calling thread. Any context but NMI, once the scheduler runs. One
/// GS-relative load: a thread preempted and moved to another CPU between
/// finding "its" CPU block and reading it would read another CPU's thread,
/// so this must never be this_cpu().current_thread.
inline Thread* current() {
  Thread* t;
  asm("mov %%gs:%c1, %0" : "=r"(t) : "i"(__builtin_offsetof(arch::PerCpu, current_thread)));
  return t;
}

/// Puts the caller at the back of its CPU's queue and runs another thread
/// if one is runnable.
void yield();

/// Sleeps at least `ns` nanoseconds / until nanotime() >= deadline_ns.
void sleep_for(uint64_t ns);
void sleep_until(uint64_t deadline_ns);

/// Changes where `t` may run: one CPU, or anywhere. Takes effect the next
/// time `t` is queued (for the caller: at once, by yielding).
/// kInvalidArgument for a CPU that takes no threads (not started, or
/// offline).
base::Status set_affinity(Thread* t, Affinity affinity);

ThreadStats thread_stats(const Thread* t);

/// Calls fn(t, arg) for every live thread, under the thread-list lock
/// (fn must not block or spawn). Returns how many there were.
size_t for_each_thread(void (*fn)(const Thread& t, void* arg), void* arg);

/// Frees the detached threads that have exited, as the next spawn or join
/// would: for a caller that waits for thread_count() to come back without
/// spawning (a spawn may need a new descriptor meanwhile). Thread context.
void reap_exited();

/// Threads alive now (spawned or adopted, not yet reaped). No lock: a
/// snapshot, any context but NMI.
size_t thread_count();

/// Descriptors ever made (live and free-listed): what the scheduler holds
/// of the heap, since descriptors are never freed (see the top of this
/// file). No lock, like thread_count.
size_t thread_descriptors();

/// Who holds one of sched's spinlocks and how many CPUs wait for it, for
/// reports of threads that stall (racy hints: arch::SpinLock::holder_hint).
struct LockHint {
  uint32_t holder;   // a CPU index, or arch::SpinLock::kNoHolder
  uint32_t waiters;  // CPUs spinning for it
};
/// The thread-list lock: linking and unlinking threads, and every walk of
/// them (for_each_thread, cpu_offline's unpinning).
LockHint thread_list_lock_hint();
/// The lock of descriptors and cached stacks, which spawn and join take.
LockHint thread_pool_lock_hint();

/// Whether `addr` lies in the running thread's stack or the guard page
/// below it, and if so where. For fault reports and backtraces: O(1), no
/// lock, any context. An NMI taken inside a switch, after the current
/// thread became `next` but before RSP left `prev`'s stack, gets `next`'s
/// stack, not the one it interrupted (prof/kernel_unwind.cc copes).
struct ThreadStackInfo {
  uint64_t lo = 0, hi = 0;
  bool in_guard = false;
  const char* name = nullptr;
};
bool find_current_thread_stack(uint64_t addr, ThreadStackInfo* out);

}  // namespace sched
