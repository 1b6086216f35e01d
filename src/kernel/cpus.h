// Bringing every CPU up: the LAPIC of each (x2APIC when the CPU has it,
// else xAPIC), the TSC and LAPIC-timer calibration, the periodic timer,
// IPIs, and the application processors' start. Boot CPU, thread context,
// except where noted.
#pragma once

#include "src/arch/cpu_features.h"
#include "src/arch/percpu.h"
#include "src/base/result.h"
#include "src/kernel/platform.h"
#include "src/sched/sched.h"

namespace kernel {

/// How time was measured at boot.
struct ClockInfo {
  uint64_t tsc_hz = 0;
  uint64_t lapic_timer_hz = 0;  // after the divider
  bool tsc_from_cpuid = false;
  uint64_t calibration_tsc_cycles = 0;  // what calibrating cost
  uint64_t error_ppm = 0;               // bound on the TSC rate's error
  int windows = 0;                      // PIT windows measured
};

/// Timer interrupt rate per CPU.
inline constexpr uint32_t kTimerHz = 1000;

/// Where the periodic tick comes from: every CPU's LAPIC timer, or — when
/// the LAPIC timer is unusable (or `timer=pit` asks for it) — the 8254's
/// channel 0 on the boot CPU alone.
enum class TimerSource { kLapic, kPit };

/// Enables this (boot) CPU's LAPIC, calibrates the clocks against the PIT
/// (or CPUID 0x15/0x16 when trustworthy) and starts the periodic LAPIC
/// timer, unless `force_pit` or calibration finds it unusable.
/// Interrupts stay off; the caller enables them.
void cpus_init_boot(const Platform& platform, const arch::CpuFeatures& features, bool force_pit);

TimerSource timer_source();

/// For TimerSource::kPit: programs channel 0 at kTimerHz and counts its
/// interrupts, arriving at `vector` (the caller routes ISA IRQ 0 there,
/// to the boot CPU), as the boot CPU's ticks.
void cpus_start_pit_tick(uint8_t vector);

/// Starts every enabled CPU of the MADT (up to kMaxCpus) and waits for each
/// to come online, skipping (and naming) any that does not within a timeout.
void cpus_start_aps(const Platform& platform);

const ClockInfo& clock_info();
const arch::CpuFeatures& cpu_features();

/// Lets this CPU run the vector code of SimdRegions (src/sched/simd.h):
/// SSE always, and AVX state (CR4.OSXSAVE, XCR0 = x87|SSE|AVX) where the
/// CPU supports it. Every CPU, before it schedules; after cpus_init_boot.
void cpus_enable_simd_this_cpu();

/// CPUs online, the boot CPU included.
uint32_t cpus_online();
/// CPUs the MADT listed enabled, and those left parked or that failed.
uint32_t cpus_found();
uint32_t cpus_skipped();
/// The block of CPU `index` (< cpus_online()).
arch::PerCpu& cpu_block(uint32_t index);

/// Nanoseconds since boot, from the calibrated TSC. Any context.
uint64_t nanotime();
/// Busy-waits at least `us` microseconds (pausing). Any context.
void delay_us(uint64_t us);

/// A fixed IPI at `vector` to CPU `index`. Any context but NMI.
base::Status send_ipi(uint32_t index, uint8_t vector);
/// An NMI to CPU `index`.
base::Status send_nmi(uint32_t index);
/// Runs fn(arg) once on application processor `cpu`, in a thread pinned
/// there — how tests put work on one particular CPU. kBusy while that CPU
/// still has earlier work, kInvalidArgument for CPU 0 or a CPU not online,
/// kOutOfMemory when no thread can be made.
base::Status cpus_run_on(uint32_t cpu, void (*fn)(void*), void* arg);

/// Waits (pausing) until `cpu` has finished what cpus_run_on gave it.
void cpus_wait_work_done(uint32_t cpu);

/// What the scheduler needs of this module (IPIs, the one-shot LAPIC timer
/// or none with the PIT, the clock). After cpus_init_boot.
sched::SchedHooks sched_hooks();

/// End of interrupt on this CPU's LAPIC (interrupt context).
void lapic_eoi();

}  // namespace kernel
