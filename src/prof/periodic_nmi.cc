// See periodic_nmi.h.
#include "src/prof/periodic_nmi.h"

#include "src/arch/cpu_timer.h"
#include "src/arch/ipi.h"
#include "src/arch/irq_routing.h"
#include "src/arch/pit.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/prof/cpu_prof.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"

namespace prof {
namespace {

constexpr uint8_t kPitIrq = 0;
constinit base::Atomic<uint32_t> running{0};
constinit uint64_t period_ns = 0;

}  // namespace

const char* periodic_nmi_unavailable() {
  if (arch::timer_source() == arch::TimerSource::kPit) return "the PIT ticks the scheduler (timer=pit)";
  return nullptr;
}

base::Result<uint64_t> pit_set_rate(uint32_t hz) {
  if (hz < kPeriodicMinHz || hz > kPeriodicMaxHz) return base::Error::kInvalidArgument;
  base::Result<uint16_t> divisor = arch::pit_periodic_divisor(hz);
  if (!divisor.ok()) return divisor.error();
  if (base::Status s = arch::pit_start_periodic(arch::PortIo{}, hz); !s.ok()) return s.error();
  return uint64_t{divisor.value()} * 1'000'000'000 / arch::kPitHz;
}

base::Status periodic_nmi_start(uint32_t hz) {
  if (periodic_nmi_unavailable() != nullptr) return base::Error::kUnsupported;
  base::Result<uint64_t> period = pit_set_rate(hz);
  if (!period.ok()) return period.error();
  period_ns = period.value();
  // Published before the first NMI: the boot CPU's handler fans out only
  // while this is set.
  running.store(1, base::MemoryOrder::kRelease);
  if (base::Status s = arch::route_isa_irq_nmi(kPitIrq, arch::CpuIndex(0)); !s.ok()) {
    running.store(0, base::MemoryOrder::kRelease);
    return s;
  }
  return base::Status::Ok();
}

void periodic_nmi_stop() {
  (void)arch::mask_isa_irq(kPitIrq);
  running.store(0, base::MemoryOrder::kRelease);
}

bool periodic_nmi_running() { return running.load(base::MemoryOrder::kAcquire) != 0; }

uint64_t periodic_nmi_period_ns() { return period_ns; }

void periodic_nmi_fan_out(bool include_idle) {
  // One NMI per CPU by physical destination rather than the all-but-self
  // shorthand: a CPU that never started may sit in wait-for-SIPI, where a
  // latched NMI would be taken in real mode once it is started.
  for (uint32_t cpu = 1; cpu < prof_cpus(); ++cpu) {
    if (!arch::ap_is_online(arch::CpuIndex(cpu))) continue;
    // An offline CPU (sched/cpu_offline.h) halts by design: no samples,
    // no watchdog. Its watchdog starts afresh when it is back, as the
    // ticks it last saw are stale by however long it was away.
    CpuProf* p = cpu_prof(cpu);
    if (sched::cpu_is_offline(arch::CpuIndex(cpu))) {
      p->watchdog_restart.store(1, base::MemoryOrder::kRelaxed);
      continue;
    }
    if (!include_idle && sched::cpu_idle_mark(arch::CpuIndex(cpu)).halted) continue;
    (void)arch::send_nmi_from_nmi(arch::CpuIndex(cpu));
  }
}

}  // namespace prof
