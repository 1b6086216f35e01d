// futex_wait/futex_wake on the scheduler (see futex.h and, for the
// protocol, futex_table.h).
#include "src/sched/futex.h"

#include "src/arch/spinlock.h"
#include "src/base/assert.h"
#include "src/base/placement_new.h"
#include "src/mm/kmalloc.h"
#include "src/mm/safe_access.h"
#include "src/sched/futex_table.h"
#include "src/sched/sched.h"

namespace sched {
namespace {

using Table = FutexTable<arch::SpinLock>;
constinit Table table_;

// The word at `key`, read under a bucket lock: a fault must not be taken
// there, so the read goes through the fixup table and fails softly.
base::Result<uint32_t> load_word(uint64_t key) {
  base::Result<uint64_t> q = mm::safe_read64(key & ~uint64_t{7});
  if (!q.ok()) return base::Error::kFault;
  return static_cast<uint32_t>(q.value() >> ((key & 4) * 8));
}

void wake_thread(void* t) { wake(static_cast<Thread*>(t)); }

struct TimeoutCtx {
  FutexWaiter* waiter;
  Thread* thread;
};

// The timeout: if the waiter is still queued it leaves with ETIMEDOUT;
// if a waker claimed it first, that wake counts and wakes it.
void on_timeout(Timer&, void* arg) {
  auto* ctx = static_cast<TimeoutCtx*>(arg);
  if (table_.cancel(*ctx->waiter)) wake(ctx->thread);
}

bool aligned(const uint32_t* addr) { return (reinterpret_cast<uint64_t>(addr) & 3) == 0; }

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
  assert_may_block("futex_wait");
  uint64_t key = reinterpret_cast<uint64_t>(addr);
  Thread* me = current();
  FutexWaiter w(me);
  base::Status s = table_.prepare_wait(w, key, expected, load_word);
  if (!s.ok()) return s.error() == base::Error::kAgain ? -kEAGAIN : -kEFAULT;
  TimeoutCtx ctx{&w, me};
  Timer timer(on_timeout, &ctx);
  bool timed = timeout_ns != kNoTimeout;
  if (timed) timer_arm(timer, nanotime() + timeout_ns);
  block_until([&] { return w.done(); });
  // Returns only once a running callback has finished (timer.h): `timer`
  // and `ctx` may then leave the stack.
  if (timed) (void)timer_cancel(timer);
  return w.timed_out() ? -kETIMEDOUT : 0;
}

int futex_wake(const uint32_t* addr, uint32_t n) {
  if (!aligned(addr)) return -kEINVAL;
  return static_cast<int>(table_.wake(reinterpret_cast<uint64_t>(addr), n, wake_thread));
}

int futex_requeue(const uint32_t* from, const uint32_t* to, uint32_t n_wake, uint32_t n_move) {
  if (!aligned(from) || !aligned(to)) return -kEINVAL;
  return static_cast<int>(
      table_.requeue(reinterpret_cast<uint64_t>(from), reinterpret_cast<uint64_t>(to), n_wake, n_move, wake_thread));
}

}  // namespace sched
