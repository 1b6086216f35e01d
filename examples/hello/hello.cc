// The smallest kernel on biscotti: a thread that greets from every CPU and
// powers off (examples/hello/README.md).
#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/base/atomic.h"
#include "src/kernel/app.h"
#include "src/ktest/ktest.h"
#include "src/monitor/command.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace {

// Runs pinned to its CPU: the greeting names where it really ran.
void greet(void* greeted) {
  arch::kprint("hello from biscotti on CPU {} (thread {})\n", arch::this_cpu().index.value, sched::current()->tid);
  static_cast<base::Atomic<uint32_t>*>(greeted)->fetch_add(1, base::MemoryOrder::kRelaxed);
}

// One greeting from each CPU, in turn; how many came.
uint32_t greet_from_every_cpu() {
  base::Atomic<uint32_t> greeted{0};
  for (uint32_t cpu = 0; cpu < sched::sched_cpus(); ++cpu) {
    base::Result<sched::Thread*> t = sched::spawn(
        greet, &greeted, sched::ThreadOptions{.name = "greet", .affinity = sched::Affinity::only(arch::CpuIndex(cpu))});
    if (!t.ok()) {
      arch::kprint("hello: cannot start a thread on CPU {}: {}\n", cpu, base::error_name(t.error()));
      continue;
    }
    sched::join(t.value());
  }
  return greeted.load(base::MemoryOrder::kRelaxed);
}

}  // namespace

// An application's own command and test: registered as any module's are
// (boot with app=off to use them without app_main running beside them).
MONITOR_COMMAND(hello, "", "greet from every CPU") { return greet_from_every_cpu() == sched::sched_cpus(); }

KTEST(hello, greets_from_every_cpu) { KEXPECT_EQ(greet_from_every_cpu(), sched::sched_cpus()); }

void kernel::app_main() {
  const uint32_t greeted = greet_from_every_cpu();
  arch::kprint("hello: greeted from {} CPUs; powering off\n", greeted);
  kernel::app_power_off(greeted == sched::sched_cpus());
}
