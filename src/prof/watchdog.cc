// See watchdog.h.
#include "src/prof/watchdog.h"

#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/x86.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/snapshot.h"
#include "src/sched/sched.h"

namespace prof {
namespace {

constinit uint32_t limit_seconds = 0;
constinit uint64_t limit_tsc = 0;
constinit base::Atomic<uint64_t> reports{0};

}  // namespace

void watchdog_configure(uint32_t seconds) {
  limit_seconds = seconds;
  limit_tsc = uint64_t{seconds} * arch::tsc_hz();
}

uint32_t watchdog_seconds() { return limit_seconds; }

uint64_t watchdog_reports() { return reports.load(base::MemoryOrder::kRelaxed); }

void watchdog_check(const arch::TrapFrame& f) {
  if (limit_tsc == 0) return;
  arch::PerCpu& cpu = arch::this_cpu();
  CpuProf* p = cpu.prof;
  // Back from offline: the tick count it last saw is from before it went.
  if (p->watchdog_restart.load(base::MemoryOrder::kRelaxed) != 0 &&
      p->watchdog_restart.exchange(0, base::MemoryOrder::kRelaxed) != 0)
    p->watchdog = WatchdogState{};
  const uint64_t now = arch::rdtsc();
  const uint64_t ticks = __atomic_load_n(&cpu.timer_ticks, __ATOMIC_RELAXED);
  const uint64_t since = p->watchdog.progress_tsc;
  const uint64_t idle = sched::cpu_idle_mark(cpu.index).idle_tsc;
  switch (watchdog_step(p->watchdog, ticks, idle, (f.rflags & arch::kRflagsIf) != 0, now, limit_tsc)) {
    case WatchdogVerdict::kFine:
    case WatchdogVerdict::kStillStuck:
      return;
    case WatchdogVerdict::kRecovered:
      arch::kprint_nmi("watchdog: CPU {} recovered after {} ms\n", cpu.index.value,
                       arch::tsc_to_ns(now - since) / 1'000'000);
      return;
    case WatchdogVerdict::kStuck:
      break;
  }
  // The snapshot lives on this NMI stack (an 8 KiB IST stack; it is about
  // 500 bytes): the CPU's own may be in use by a `bt` request.
  CpuSnapshot s;
  capture_snapshot(f, &s);
  ++p->watchdog_reports;
  arch::console_lock_nmi();
  base::format(arch::console_sink(), "\nwatchdog: CPU {} stuck for {} s: interrupts off and no timer tick\n",
               cpu.index.value, arch::tsc_to_ns(now - p->watchdog.progress_tsc) / 1'000'000'000);
  print_snapshot(arch::console_sink(), cpu.index.value, s);
  arch::console_unlock_nmi();
  // Published after the report is out: a test that waits for the count
  // then finds the whole report in the log.
  reports.fetch_add(1, base::MemoryOrder::kRelease);
}

}  // namespace prof
