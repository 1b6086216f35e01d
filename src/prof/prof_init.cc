// See prof_init.h.
#include "src/prof/prof_init.h"

#include "src/arch/console.h"
#include "src/arch/smp_boot.h"
#include "src/arch/trap.h"
#include "src/base/assert.h"
#include "src/monitor/boot_options.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/periodic_nmi.h"
#include "src/prof/pmu_sampler.h"
#include "src/prof/sampler.h"
#include "src/prof/snapshot.h"
#include "src/prof/stop_world.h"
#include "src/prof/watchdog.h"
#include "src/sched/sched.h"

namespace prof {
namespace {

constinit CpuProf* blocks = nullptr;

// The watchdog's share of the 20 Hz periodic NMI: 2 Hz on the other CPUs,
// far finer than any limit (at least a second) it checks.
constexpr uint32_t kWatchdogFanOutEvery = 10;
constinit uint32_t nblocks = 0;

// Every NMI, whoever sent it: this CPU's PMU counter overflowing (a PMI),
// the world stopping, a `bt` request, or the periodic tick (sample,
// watchdog; the boot CPU passes it on). NMIs carry no vector of their own,
// so the requests are flags the sender set first, and a PMI is told by
// the counters' overflow status.
void on_nmi(arch::TrapFrame& f) {
  arch::PerCpu& cpu = arch::this_cpu();
  ++cpu.nmis_received;
  CpuProf* p = cpu.prof;
  if (p == nullptr) return;
  // The PMI first: its delivery masked the LVT and (Intel v2+) froze the
  // counters, which must run again whatever else this NMI does. NMIs
  // pending together arrive as one, so the flags below are still checked.
  const bool pmi = sampler_pmi(f);
  // Another CPU arming or disarming this one's counter as it comes online
  // or goes offline (pmu_sampler.h); the NMI may carry a tick too.
  (void)pmu_sampler_answer();
  if (world_stopped_by_other(cpu.index.value)) park_stopped_cpu(f);
  if (const uint32_t request = p->snapshot_wanted.load(base::MemoryOrder::kAcquire); request != 0) {
    capture_snapshot(f, &p->snapshot);
    // Release: the asker that sees its request answered sees the snapshot.
    p->snapshot_answered.store(request, base::MemoryOrder::kRelease);
    uint32_t expected = request;
    (void)p->snapshot_wanted.compare_exchange(expected, 0, base::MemoryOrder::kRelaxed, base::MemoryOrder::kRelaxed);
    return;  // a request, not a tick (a tick merged into it is lost)
  }
  // A counter overflow, not a tick: on the boot CPU a tick would be passed
  // on to every CPU (a tick merged into the PMI is lost; the watchdog
  // allows for that).
  if (pmi) return;
  if (cpu.index.value == 0) {
    // Only the PIT sends the boot CPU a tick; anything else (a test's NMI)
    // is no tick while the periodic NMI is off.
    if (!periodic_nmi_running()) return;
    // A profile wants every tick on every CPU, idle ones included (idle
    // time is part of where time goes). The watchdog alone needs far less:
    // every kWatchdogFanOutEvery-th tick, and only to CPUs not halted in
    // idle (they cannot be stuck; watchdog_step counts idling as
    // progress). Each NMI costs every CPU it reaches, which on 64 CPUs
    // under -icount was 180 us of guest time per tick.
    static constinit uint32_t ticks = 0;
    if (sampler_nmi_tick_wanted()) {
      periodic_nmi_fan_out(/*include_idle=*/true);
    } else if (++ticks % kWatchdogFanOutEvery == 0) {
      periodic_nmi_fan_out(/*include_idle=*/false);
    }
  }
  sampler_nmi_tick(f);
  watchdog_check(f);
}

// `watchdog=SECONDS` (0 to 3600), or the table's default (10) when it is
// absent or bad (check_boot_options named a bad one at boot).
uint32_t watchdog_from(base::StrView cmdline) {
  return static_cast<uint32_t>(monitor::boot_option_uint(cmdline, "watchdog").value());
}

}  // namespace

CpuProf* cpu_prof(uint32_t cpu) { return cpu < nblocks ? &blocks[cpu] : nullptr; }

uint32_t prof_cpus() { return nblocks; }

void prof_init(base::StrView cmdline) {
  ASSERT_MSG(blocks == nullptr, "prof_init twice");
  const uint32_t n = sched::sched_cpus();
  CpuProf* b = new CpuProf[n];
  ASSERT_MSG(b != nullptr, "prof: no memory for {} CPU blocks at boot", n);
  for (uint32_t cpu = 0; cpu < n; ++cpu) b[cpu].cpu = cpu;
  blocks = b;
  nblocks = n;
  sampler_init();
  pmu_sampler_init();
  arch::set_trap_handler(arch::kVectorNmi, on_nmi);
  // Each CPU's handler finds its block through its PerCpu from here on.
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    __atomic_store_n(&arch::cpu_block(arch::CpuIndex(cpu)).prof, &b[cpu], __ATOMIC_RELEASE);

  const uint32_t seconds = watchdog_from(cmdline);
  watchdog_configure(seconds);
  if (seconds == 0) {
    arch::kprint("prof: watchdog off (watchdog=0)\n");
  } else if (const char* why = periodic_nmi_unavailable()) {
    watchdog_configure(0);
    arch::kprint("prof: watchdog off: no periodic NMI: {}\n", why);
  } else if (base::Status s = periodic_nmi_start(kPeriodicMinHz); !s.ok()) {
    watchdog_configure(0);
    arch::kprint("prof: watchdog off: the periodic NMI did not start: {}\n", base::error_name(s.error()));
  } else {
    arch::kprint("prof: watchdog {} s (a periodic NMI at {} Hz from the PIT)\n", seconds, kPeriodicMinHz);
  }
}

}  // namespace prof
