// The per-CPU timer (see cpu_timer.h): source choice, the periodic start
// and one-shot arming of the LAPIC timer, the PIT fallback.
#include "src/arch/cpu_timer.h"

#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/irq_routing.h"
#include "src/arch/local_apic.h"
#include "src/arch/pit.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"

namespace arch {
namespace {

constinit uint32_t periodic_count = 0;  // 0: no periodic LAPIC timer
constinit uint64_t lapic_ns_mult = 0;   // LAPIC timer counts per ns, 32.32 fixed point

}  // namespace

void cpu_timer_init(bool force_pit) {
  if (force_pit) internal::timer_source = TimerSource::kPit;
  uint64_t hz = clock_info().lapic_timer_hz;
  uint64_t count = hz / kTimerHz;
  if (count == 0 || count > 0xffff'ffff) {
    kprint("lapic: timer rate {} Hz unusable for {} Hz ticks; falling back to the PIT\n", hz, kTimerHz);
    internal::timer_source = TimerSource::kPit;
  }
  if (internal::timer_source == TimerSource::kLapic) periodic_count = static_cast<uint32_t>(count);
  // hz << 32 / 1e9 without a 128-bit division (the kernel has no libgcc).
  lapic_ns_mult = ((hz / kNsPerSecond) << 32) + (((hz % kNsPerSecond) << 32) / kNsPerSecond);
  cpu_timer_start_this_cpu();
}

void cpu_timer_start_this_cpu() {
  if (periodic_count == 0) return;
  with_lapic([](auto& l) {
    l.start_timer_periodic(kVectorLapicTimer, kTimerDivide, periodic_count);
    return 0;
  });
}

void cpu_timer_arm_ns(uint64_t ns) {
  if (ns == ~uint64_t{0}) {
    with_lapic([](auto& l) {
      l.stop_timer();
      return 0;
    });
    return;
  }
  unsigned __int128 counts = (static_cast<unsigned __int128>(ns) * lapic_ns_mult) >> 32;
  // At least one count (zero would stop the timer); at most the 32-bit
  // register, about a minute at QEMU's 62.5 MHz: the timer then fires
  // early and is re-armed.
  uint32_t count = counts == 0 ? 1 : counts > 0xffff'ffff ? 0xffff'ffff : static_cast<uint32_t>(counts);
  with_lapic([&](auto& l) {
    l.start_timer_one_shot(kVectorLapicTimer, kTimerDivide, count);
    return 0;
  });
}

void cpu_timer_start_pit_tick() {
  if (internal::timer_source != TimerSource::kPit) return;
  constexpr uint8_t kPitIrq = 0;
  ASSERT_MSG(route_isa_irq(kPitIrq, kVectorPitTimer, CpuIndex(0)).ok(),
             "no LAPIC timer and no IOAPIC route for the PIT: no timer at all");
  base::Status s = pit_start_periodic(PortIo{}, kTimerHz);
  ASSERT_MSG(s.ok(), "PIT cannot tick at {} Hz", kTimerHz);
  kprint("timer: PIT channel 0 at {} Hz on cpu 0 (no LAPIC timer)\n", kTimerHz);
}

}  // namespace arch
