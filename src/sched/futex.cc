// futex_wait/futex_wake on the scheduler (see futex.h and, for the
// protocol, futex_table.h).
#include "src/sched/futex.h"

#include "src/arch/clock.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/placement_new.h"
#include "src/base/thread_annotations.h"
#include "src/base/ticket_lock.h"
#include "src/mm/kmalloc.h"
#include "src/mm/safe_access.h"
#include "src/sched/futex_table.h"
#include "src/sched/sched.h"

namespace sched {
namespace {

// The bucket lock: a bare ticket lock, held only with interrupts off, which
// every entry point below arranges once for the whole operation: a wait
// already has them off from enter_blocking, and a wake keeps them off
// across its bucket lock and its wake-ups (wake_irqs_off), where the
// interrupt-saving lock it used before turned them off and on twice per
// wake, and once more per wait. A bucket lock is never held across
// anything that could block, call out or take another lock — only the
// table's list operations and load_word's probe run under it — so
// SpinLock's push_cli count, which exists to report such misuse, would be
// paid on every wait and wake for nothing.
using BucketLock = base::TicketLock<>;

using Table = FutexTable<BucketLock>;
constinit Table table_;

// The word at `key`, read under a bucket lock: a fault must not be taken
// there, so the read goes through the fixup table and fails softly.
base::Result<uint32_t> load_word(uint64_t key) {
  return mm::safe_read32_inline(reinterpret_cast<const uint32_t*>(key));
}

// The table's wake_fn: called by wake() and requeue() with interrupts
// still off (their callers below keep them off throughout).
void wake_thread(void* t) { wake_irqs_off(static_cast<Thread*>(t)); }

struct TimeoutCtx {
  FutexWaiter* waiter;
  Thread* thread;
};

// The timeout: if the waiter is still queued it leaves with ETIMEDOUT;
// if a waker claimed it first, that wake counts and wakes it. Timers fire
// with interrupts off (under their CPU's timer lock); the save keeps the
// bucket lock's rule local rather than resting on that.
void on_timeout(Timer&, void* arg) {
  auto* ctx = static_cast<TimeoutCtx*>(arg);
  uint64_t flags = arch::irq_save();
  bool cancelled = table_.cancel(*ctx->waiter);
  arch::irq_restore(flags);
  if (cancelled) wake(ctx->thread);
}

bool aligned(const uint32_t* addr) { return (reinterpret_cast<uint64_t>(addr) & 3) == 0; }

// The rest of a wait with a timeout, apart so that the untimed wait does
// not build the timer. Interrupts on.
[[gnu::noinline]] int wait_timed(FutexWaiter& w, Thread* me, uint64_t timeout_ns) {
  TimeoutCtx ctx{&w, me};
  Timer timer(on_timeout, &ctx);
  timer_arm(timer, arch::nanotime() + timeout_ns);
  block_until([&] { return w.done(); });
  // Returns only once a running callback has finished (timer.h): `timer`
  // and `ctx` may then leave the stack.
  (void)timer_cancel(timer);
  return w.timed_out() ? -kETIMEDOUT : 0;
}

}  // namespace

void futex_init(uint32_t ncpu) {
  size_t n = Table::buckets_for_cpus(ncpu);
  void* mem = mm::kmalloc(n * sizeof(Table::Bucket));
  ASSERT_MSG(mem != nullptr, "futex: no memory for {} buckets", n);
  ASSERT_MSG(reinterpret_cast<uint64_t>(mem) % alignof(Table::Bucket) == 0, "futex: buckets misaligned");
  auto* buckets = static_cast<Table::Bucket*>(mem);
  for (size_t i = 0; i < n; ++i) new (&buckets[i]) Table::Bucket();
  table_.init(base::Span<Table::Bucket>(buckets, n));
}

int futex_wait(const uint32_t* addr, uint32_t expected, uint64_t timeout_ns) {
  if (!aligned(addr)) return -kEINVAL;
  // The blocking checks come first, so that misuse is reported even when
  // the value differs; interrupts then stay off until the untimed wait is
  // over (the bucket lock and the block need them off anyway).
  uint64_t flags = enter_blocking("futex_wait");
  uint64_t key = reinterpret_cast<uint64_t>(addr);
  Thread* me = current();
  FutexWaiter w(me);
  base::Status s = table_.prepare_wait(w, key, expected, load_word);
  if (!s.ok()) {
    arch::irq_restore(flags);
    return s.error() == base::Error::kAgain ? -kEAGAIN : -kEFAULT;
  }
  if (timeout_ns != kNoTimeout) {
    arch::irq_restore(flags);
    return wait_timed(w, me, timeout_ns);
  }
  block_irqs_off_until([&] { return w.done(); });
  arch::irq_restore(flags);
  return 0;  // untimed: only a wake ends it
}

int futex_wake(const uint32_t* addr, uint32_t n) {
  if (!aligned(addr)) return -kEINVAL;
  uint64_t flags = arch::irq_save();
  uint32_t woken = table_.wake(reinterpret_cast<uint64_t>(addr), n, wake_thread);
  arch::irq_restore(flags);
  return static_cast<int>(woken);
}

int futex_requeue(const uint32_t* from, const uint32_t* to, uint32_t n_wake, uint32_t n_move) {
  if (!aligned(from) || !aligned(to)) return -kEINVAL;
  uint64_t flags = arch::irq_save();
  uint32_t moved =
      table_.requeue(reinterpret_cast<uint64_t>(from), reinterpret_cast<uint64_t>(to), n_wake, n_move, wake_thread);
  arch::irq_restore(flags);
  return static_cast<int>(moved);
}

}  // namespace sched
