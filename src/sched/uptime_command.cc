// `uptime`: time on the kernel's clock (arch::nanotime, which starts at
// clock calibration early in boot), CPUs scheduling, and threads alive.
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/monitor/command.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

MONITOR_COMMAND(uptime, "", "time since the clock started at boot, CPUs online, threads alive") {
  const uint64_t ns = arch::nanotime();
  uint32_t online = 0;
  for (uint32_t cpu = 0; cpu < sched_cpus(); ++cpu) online += cpu_takes_threads(arch::CpuIndex(cpu)) ? 1 : 0;
  arch::kprint("up {}.{:03} s ({} ns); {} CPUs online; {} threads\n", ns / 1'000'000'000, ns / 1'000'000 % 1000, ns,
               online, thread_count());
  return true;
}

}  // namespace
}  // namespace sched
