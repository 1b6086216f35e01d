// Per-CPU timers and the tickless re-arming of the hardware (see timer.h).
#include "src/sched/timer.h"

#include "src/arch/clock.h"
#include "src/arch/cpu_timer.h"
#include "src/arch/spinlock.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/sched/sched_cpu.h"

namespace sched {
namespace {

// The CPU whose interrupt will fire a timer armed here.
CpuSched& timer_home() { return arch::cpu_timer_has_one_shot() ? this_sched() : sched_of(arch::CpuIndex(0)); }

CpuSched* owner_of(TimerQueue* q) {
  return reinterpret_cast<CpuSched*>(reinterpret_cast<char*>(q) - __builtin_offsetof(CpuSched, timers));
}

// Programs the hardware for `deadline` if that is sooner than what it is
// armed for. Caller holds c.timer_lock; c is this CPU's block.
void arm_hardware(CpuSched& c, uint64_t deadline, uint64_t now) REQUIRES(c.timer_lock) {
  if (!arch::cpu_timer_has_one_shot()) return;  // the PIT ticks periodically
  c.armed_ns = deadline;
  arch::cpu_timer_arm_ns(deadline == ~uint64_t{0} ? deadline : (deadline > now ? deadline - now : 0));
}

}  // namespace

void timer_arm(Timer& t, uint64_t deadline_ns) {
  uint64_t flags = arch::irq_save();
  CpuSched& c = timer_home();
  {
    arch::SpinLockGuard g(c.timer_lock);
    c.timers.insert(t, deadline_ns);
    if (&c == &this_sched() && deadline_ns < c.armed_ns) arm_hardware(c, deadline_ns, arch::nanotime());
  }
  arch::irq_restore(flags);
}

bool timer_cancel(Timer& t) {
  // Only the timer's owner arms it, and it is cancelling now; but a CPU
  // going offline moves its queued timers to CPU 0 (migrate_timers, under
  // both queues' locks), so the queue read here is confirmed under its
  // lock, and read again if the timer moved meanwhile.
  //
  // A null queue alone does not mean "fired and done": it is also what a
  // migration shows between taking the timer out of the leaving CPU's queue
  // and putting it into CPU 0's, and what a firing shows while the callback
  // runs. Returning false then let futex's wait_timed free a timer (on its
  // stack) still linked into CPU 0's queue, or one whose callback was still
  // reading its context: the torture's "timer inserted while queued or
  // listed" panic in migrate_timers. So a null queue counts only once the
  // timer is not in transit.
  for (;;) {
    TimerQueue* q = t.queue();
    if (q == nullptr) {
      if (!t.in_transit()) return false;
      arch::cpu_relax();
      continue;
    }
    CpuSched* c = owner_of(q);
    arch::SpinLockGuard g(c->timer_lock);
    if (t.queue() == q) return c->timers.cancel(t);
  }
}

void migrate_timers(CpuSched& from, CpuSched& to) {
  ASSERT_MSG(&from != &to, "sched: timers migrated to their own CPU {}", from.index.value);
  // Lock order: the leaving CPU's, then CPU 0's; nobody else holds two.
  arch::SpinLockGuard g_from(from.timer_lock);
  arch::SpinLockGuard g_to(to.timer_lock);
  while (Timer* t = from.timers.peek()) {
    uint64_t deadline = t->deadline_ns();
    t->set_in_transit(true);  // timer_cancel: the null queue in between is not "fired"
    from.timers.cancel(*t);
    to.timers.insert(*t, deadline);
    t->set_in_transit(false);
  }
  from.armed_ns = ~uint64_t{0};
  from.quantum_armed = false;
}

void run_expired_timers(CpuSched& c, uint64_t now_ns) {
  arch::SpinLockGuard g(c.timer_lock);
  c.armed_ns = ~uint64_t{0};  // the one-shot that brought us here is spent
  c.quantum_armed = false;
  while (Timer* t = c.timers.peek()) {
    if (t->deadline_ns() > now_ns) break;
    t->set_in_transit(true);  // timer_cancel waits for the callback to finish
    c.timers.cancel(*t);
    t->fire();
    t->set_in_transit(false);
  }
}

void rearm_timer(CpuSched& c, uint64_t now_ns, bool busy) {
  arch::SpinLockGuard g(c.timer_lock);
  uint64_t deadline = c.timers.next_deadline();
  if (busy) {
    uint64_t elapsed = arch::rdtsc() - c.slice_start_tsc;
    uint64_t q = quantum_tsc();
    uint64_t slice_end = now_ns + (elapsed < q ? arch::tsc_to_ns(q - elapsed) : kQuantumNs);
    if (slice_end < deadline) deadline = slice_end;
  }
  arm_hardware(c, deadline, now_ns);
  c.quantum_armed = busy;
}

}  // namespace sched
