// `threads`: every thread with its id, name, state, last CPU, affinity,
// run time and switches, most CPU time first, then the totals. A CPU's idle
// thread shows as "idle": its state reads running, which would say the CPU
// is busy when it is the opposite.
#include "src/arch/console.h"
#include "src/base/format.h"
#include "src/monitor/command.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"
#include "src/sched/thread_snapshot.h"

namespace sched {
namespace {

// Static: the copy is taken under the thread-list lock, where nothing may
// allocate, and 512 rows (40 KiB) would crowd a 16 KiB thread stack. One
// thread runs monitor commands. Threads past 512 are in the totals only.
constinit ThreadSnapshot<512> snapshot;

MONITOR_COMMAND(threads, "", "every thread, most CPU time first: state, CPU, run time, switches; totals") {
  snapshot.clear();
  for_each_thread(
      [](const Thread& t, void*) {
        ThreadStats st = thread_stats(&t);
        ThreadRow r;
        r.tid = t.tid;
        static_assert(sizeof r.name == Thread::kNameLen);
        for (size_t i = 0; i < sizeof r.name; ++i) r.name[i] = t.name[i];
        r.name[sizeof r.name - 1] = '\0';
        r.idle = is_idle_thread(&t);
        r.state = r.idle ? "idle" : state_name(t.get_state());
        r.last_cpu = st.last_cpu;
        r.affinity = t.affinity.load(base::MemoryOrder::kRelaxed);
        r.run_ns = st.run_ns;
        r.voluntary = st.voluntary;
        r.involuntary = st.involuntary;
        snapshot.add(r);
      },
      nullptr);
  snapshot.sort();
  arch::kprint("  tid  name                     state     cpu affinity  run ms  voluntary involuntary\n");
  for (size_t i = 0; i < snapshot.size(); ++i) {
    const ThreadRow& r = snapshot[i];
    char affinity[12];
    if (r.affinity.is_any())
      base::format_to(affinity, sizeof(affinity), "any");
    else
      base::format_to(affinity, sizeof(affinity), "{}", r.affinity.cpu().value);
    arch::kprint("  {:<4} {:<24} {:<9} {:<3} {:<9} {:<7} {:<9} {}\n", r.tid, r.name, r.state, r.last_cpu.value,
                 affinity, r.run_ns / 1'000'000, r.voluntary, r.involuntary);
  }
  if (snapshot.unlisted() > 0) arch::kprint("  ({} more threads not listed)\n", snapshot.unlisted());
  arch::kprint("{} threads ({} idle); total: run {} ms, voluntary {}, involuntary {}\n", snapshot.threads(),
               snapshot.idle(), snapshot.run_ns() / 1'000'000, snapshot.voluntary(), snapshot.involuntary());
  return true;
}

}  // namespace
}  // namespace sched
