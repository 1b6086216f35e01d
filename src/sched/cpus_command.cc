// `cpus`: CPUs found, online and skipped, the clocks, per-CPU interrupt and
// scheduler counters, and the idle invariant's verdict; `cpus offline N` /
// `cpus online N` (cpu_hotplug_command.h). Its data is arch's (CPUs,
// clocks) and sched's (counters, offline).
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/smp_boot.h"
#include "src/monitor/command.h"
#include "src/sched/cpu_hotplug_command.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"

namespace sched {
namespace {

using arch::kprint;

MONITOR_COMMAND(cpus, "[offline N | online N]",
                "CPUs, their APIC ids, interrupt and scheduler counters; or take CPU N out of scheduling, or back") {
  if (!args.empty()) return cpus_hotplug_command(args);
  uint32_t offline = 0;
  for (uint32_t i = 0; i < arch::cpus_online(); ++i) offline += sched::cpu_is_offline(arch::CpuIndex(i)) ? 1 : 0;
  kprint("{} found, {} online, {} skipped; TSC {} kHz, LAPIC timer {} kHz\n", arch::cpus_found(), arch::cpus_online(),
         arch::cpus_skipped(), arch::clock_info().tsc_hz / 1000, arch::clock_info().lapic_timer_hz / 1000);
  if (offline != 0) kprint("{} taken offline (cpus online N brings one back)\n", offline);
  for (uint32_t i = 0; i < arch::cpus_online(); ++i) {
    const arch::PerCpu& c = arch::cpu_block(arch::CpuIndex(i));
    kprint("  cpu {:<3} apic {:<3} timer ticks {:<10} ipis {:<6} nmis {}\n", c.index.value, c.apic_id.value,
           __atomic_load_n(&c.timer_ticks, __ATOMIC_RELAXED), __atomic_load_n(&c.ipis_received, __ATOMIC_RELAXED),
           __atomic_load_n(&c.nmis_received, __ATOMIC_RELAXED));
    if (sched::cpu_is_offline(arch::CpuIndex(i))) kprint("          offline\n");
    sched::CpuStats st = sched::cpu_stats(arch::CpuIndex(i));
    kprint("          sched: switches {} preemptions {} steals {} idle {} ms queued {} wakeups {} tick-wakeps {}\n",
           st.switches, st.preemptions, st.steals, st.idle_ns / 1'000'000, st.queued, st.wakeups_sent, st.tick_wakeps);
  }
  sched::IdleInvariantReport idle = sched::idle_invariant_report();
  if (idle.violations == 0)
    kprint("idle invariant: held (no thread queued over {} us while a CPU was halted)\n", idle.bound_ns / 1000);
  else
    kprint(
        "idle invariant: {} violations; first: cpu {} halted for {} us while a thread queued on cpu {} "
        "waited {} us ({} queued there, {} CPUs spinning)\n",
        idle.violations, idle.first_idle_cpu, idle.first_halted_ns / 1000, idle.first_busy_cpu,
        idle.first_waited_ns / 1000, idle.first_queued, idle.first_spinning);
  return true;
}

}  // namespace
}  // namespace sched
