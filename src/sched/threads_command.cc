// `threads`: every thread with its id, name, state, last CPU, affinity,
// run time and switches.
#include "src/arch/console.h"
#include "src/base/format.h"
#include "src/monitor/command.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

MONITOR_COMMAND(threads, "", "every thread: state, CPU, run time, switches") {
  arch::kprint("  tid  name                     state     cpu affinity  run ms  voluntary involuntary\n");
  size_t n = for_each_thread(
      [](const Thread& t, void*) {
        ThreadStats st = thread_stats(&t);
        uint32_t aff = t.affinity.load(base::MemoryOrder::kRelaxed);
        char affinity[12];
        if (aff == kAnyCpu)
          base::format_to(affinity, sizeof(affinity), "any");
        else
          base::format_to(affinity, sizeof(affinity), "{}", aff);
        arch::kprint("  {:<4} {:<24} {:<9} {:<3} {:<9} {:<7} {:<9} {}\n", t.tid, t.name, state_name(t.get_state()),
                     st.last_cpu, affinity, st.run_ns / 1'000'000, st.voluntary, st.involuntary);
      },
      nullptr);
  arch::kprint("{} threads\n", n);
  return true;
}

}  // namespace
}  // namespace sched
