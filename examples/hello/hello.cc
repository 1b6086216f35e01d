// The smallest kernel on biscotti: a thread that greets from every CPU and
// powers off (examples/hello/README.md).
#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/kernel/app.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace {

// Runs pinned to its CPU: the greeting names where it really ran.
void greet(void*) {
  arch::kprint("hello from biscotti on CPU {} (thread {})\n", arch::this_cpu().index, sched::current()->tid);
}

}  // namespace

void kernel::app_main() {
  const uint32_t ncpu = sched::sched_cpus();
  bool ok = true;
  for (uint32_t cpu = 0; cpu < ncpu; ++cpu) {
    base::Result<sched::Thread*> t = sched::spawn(greet, nullptr, sched::ThreadOptions{.name = "greet", .cpu = cpu});
    if (!t.ok()) {
      arch::kprint("hello: cannot start a thread on CPU {}: {}\n", cpu, base::error_name(t.error()));
      ok = false;
      continue;
    }
    sched::join(t.value());
  }
  arch::kprint("hello: greeted from {} CPUs; powering off\n", ncpu);
  kernel::app_power_off(ok);
}
