// cpu_offline / cpu_online (see cpu_offline.h): the controlling thread's
// side of the hand-shake; the CPU's side is park() in scheduler.cc.
//
// Why nothing is lost: the CPU is marked leaving (a locked exchange, so a
// full barrier) before any thread bound to it is unpinned, set_affinity
// refuses a CPU that is not active after storing (Dekker), and spawn binds
// a new thread only inside the thread-list lock's critical section that
// links it, after checking the CPU there (new_descriptor, thread.cc), so no
// thread can be bound to it afterwards without the unpinning seeing it. A
// leaving CPU picks nothing new (pick_slow), its tick sends the running
// thread back to the queue, and its idle thread parks it: everything queued
// there goes to the global queue, its timers to CPU 0. A waker that read a
// stale affinity and queued into its inbox kicks it (kick_if_idle kicks
// any CPU that is not active), and the parked CPU hands that thread on too.
#include "src/sched/cpu_offline.h"

#include "src/arch/ipi.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/sched/sched.h"
#include "src/sched/sched_cpu.h"

namespace sched {
namespace {

using base::MemoryOrder;

// One change at a time: two controllers would each wait on the other's CPU.
constinit base::Atomic<uint32_t> changing_{0};

// The presence hooks, newest first; pushed at init, read by controllers
// (acquire: a hook is whole before it is seen).
constinit base::Atomic<CpuPresenceHook*> hooks_{nullptr};

// Calls each hook's `leaving` (or `returned`) for `cpu`.
void run_hooks(arch::CpuIndex cpu, bool leaving) {
  for (CpuPresenceHook* h = hooks_.load(MemoryOrder::kAcquire); h != nullptr; h = h->next) {
    void (*fn)(arch::CpuIndex) = leaving ? h->leaving : h->returned;
    if (fn != nullptr) fn(cpu);
  }
}

// How often the controller looks at the CPU's progress: short against a
// quantum, which bounds how long a busy CPU takes to notice.
constexpr uint64_t kPollNs = 50'000;

// Takes the one change slot and moves `c` from `from` to `to` (sequentially
// consistent: the Dekker with set_affinity); on failure the slot is free
// again and the error is kBusy (another change) or `not_from`.
base::Status begin_change(CpuSched& c, uint32_t from, uint32_t to, base::Error not_from) {
  uint32_t free = 0;
  if (!changing_.compare_exchange(free, 1, MemoryOrder::kAcquire, MemoryOrder::kRelaxed)) return base::Error::kBusy;
  if (!c.presence.compare_exchange(from, to, MemoryOrder::kSeqCst, MemoryOrder::kRelaxed)) {
    changing_.store(0, MemoryOrder::kRelease);
    return not_from;
  }
  return base::Status::Ok();
}

// Kicks the CPU to act on the change and waits until it reports `until`.
void end_change(CpuSched& c, uint32_t until) {
  arch::kick_cpu(c.index);
  while (c.presence.load(MemoryOrder::kAcquire) != until) sleep_for(kPollNs);
}

}  // namespace

void register_cpu_presence_hook(CpuPresenceHook* h) {
  ASSERT_MSG(h != nullptr, "register_cpu_presence_hook: null hook");
  CpuPresenceHook* head = hooks_.load(MemoryOrder::kAcquire);
  for (CpuPresenceHook* p = head; p != nullptr; p = p->next) ASSERT_MSG(p != h, "cpu presence hook registered twice");
  do {
    h->next = head;
  } while (!hooks_.compare_exchange(head, h, MemoryOrder::kRelease, MemoryOrder::kAcquire));
}

bool cpu_takes_threads(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  if (cpu >= sched_cpus()) return false;
  const CpuSched& c = sched_of(index);
  return c.presence.load(MemoryOrder::kSeqCst) == kCpuActive && __atomic_load_n(&c.running, __ATOMIC_RELAXED);
}

bool cpu_is_offline(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  return cpu < sched_cpus() && sched_of(index).presence.load(MemoryOrder::kAcquire) == kCpuParked;
}

const char* offline_refusal(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  if (cpu >= sched_cpus()) return "no such CPU";
  // The IOAPIC routes the serial port (and, with timer=pit, the PIT) to
  // CPU 0, and moving device interrupts is not implemented.
  if (cpu == 0) return "the boot CPU takes the device interrupts (serial, PIT), which are not rerouted";
  uint32_t p = sched_of(index).presence.load(MemoryOrder::kAcquire);
  if (p == kCpuParked) return "already offline";
  if (p != kCpuActive || !__atomic_load_n(&sched_of(index).running, __ATOMIC_RELAXED)) return "changing state";
  return nullptr;
}

base::Result<size_t> cpu_offline(arch::CpuIndex index, void (*unpinned)(const Thread& t, void* arg), void* arg) {
  const uint32_t cpu = index.value;
  if (cpu >= sched_cpus()) return base::Error::kInvalidArgument;
  if (cpu == 0) return base::Error::kUnsupported;
  CpuSched& c = sched_of(index);
  if (base::Status s = begin_change(c, kCpuActive, kCpuLeaving, base::Error::kBusy); !s.ok()) return s.error();
  size_t n = unpin_threads_bound_to(index, unpinned, arg);
  run_hooks(index, /*leaving=*/true);
  // A halted CPU notices in its idle loop, a busy one at its tick.
  end_change(c, kCpuParked);
  // One pass is enough: a second one here used to catch a spawn that
  // checked the CPU before the mark and bound after the first pass, but a
  // spawn stalled across both passes still escaped it; spawn now checks
  // and binds under the list's lock (new_descriptor), which closes the
  // window for good.
  changing_.store(0, MemoryOrder::kRelease);
  return n;
}

base::Status cpu_online(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  if (cpu >= sched_cpus()) return base::Error::kInvalidArgument;
  CpuSched& c = sched_of(index);
  if (base::Status s = begin_change(c, kCpuParked, kCpuReturning, base::Error::kInvalidArgument); !s.ok()) return s;
  end_change(c, kCpuActive);
  run_hooks(index, /*leaving=*/false);
  changing_.store(0, MemoryOrder::kRelease);
  return base::Status::Ok();
}

}  // namespace sched
