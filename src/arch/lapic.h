// Local APIC logic for both register interfaces: xAPIC (MMIO) and x2APIC
// (MSRs) [sdm3] chapter 10. Lapic<Regs> holds the logic, register encodings
// are constexpr functions, and Regs abstracts access so host tests run the
// logic against fake register files.
//
// Contexts: a Lapic acts on the calling CPU's own local APIC, so call it
// with preemption disabled. eoi() is for interrupt handlers. In xAPIC mode
// an IPI is two register writes (ICR high, then low): send IPIs with
// interrupts disabled and never from NMI context, or a nested sender can
// change the destination between the two.
#pragma once

#include "src/arch/apic_id.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace arch {

// ---------------------------------------------------------------------------
// Layout: register offsets in the xAPIC page [sdm3] 10.4.1 table 10-1.
// x2APIC uses MSR 0x800 + offset / 16 for the same registers [sdm3] 10.12.1.2.

inline constexpr uint32_t kLapicId = 0x020;
inline constexpr uint32_t kLapicVersion = 0x030;
inline constexpr uint32_t kLapicTpr = 0x080;
inline constexpr uint32_t kLapicEoi = 0x0b0;
inline constexpr uint32_t kLapicSvr = 0x0f0;
inline constexpr uint32_t kLapicEsr = 0x280;
inline constexpr uint32_t kLapicIcrLow = 0x300;
inline constexpr uint32_t kLapicIcrHigh = 0x310;  // xAPIC only; x2APIC has one 64-bit ICR
inline constexpr uint32_t kLapicLvtTimer = 0x320;
inline constexpr uint32_t kLapicLvtPerfMon = 0x340;  // performance monitoring counters
inline constexpr uint32_t kLapicLvtError = 0x370;
inline constexpr uint32_t kLapicTimerInitialCount = 0x380;
inline constexpr uint32_t kLapicTimerCurrentCount = 0x390;
inline constexpr uint32_t kLapicTimerDivide = 0x3e0;

/// Default physical base of the xAPIC page (IA32_APIC_BASE may move it).
inline constexpr uint64_t kLapicDefaultBase = 0xfee0'0000;

/// The x2APIC MSR for an xAPIC register offset [sdm3] 10.12.1.2.
constexpr uint32_t x2apic_msr(uint32_t offset) { return 0x800 + (offset >> 4); }
static_assert(x2apic_msr(kLapicIcrLow) == 0x830, "[sdm3] table 10-6: ICR is MSR 830H");
static_assert(x2apic_msr(kLapicSvr) == 0x80f && x2apic_msr(kLapicEoi) == 0x80b);
static_assert(x2apic_msr(kLapicTimerDivide) == 0x83e && x2apic_msr(kLapicTimerCurrentCount) == 0x839);

// IA32_APIC_BASE [sdm3] 10.4.4, 10.12.1: BSP flag, x2APIC enable (EXTD),
// global enable (EN), page base in bits 51:12.
inline constexpr uint32_t kIa32ApicBase = 0x1b;
inline constexpr uint64_t kApicBaseBsp = 1 << 8;
inline constexpr uint64_t kApicBaseExtd = 1 << 10;
inline constexpr uint64_t kApicBaseEnable = 1 << 11;
constexpr uint64_t apic_base_address(uint64_t msr_value) { return msr_value & 0x000f'ffff'ffff'f000; }
/// The IA32_APIC_BASE value that switches an enabled xAPIC to x2APIC mode
/// (EN and EXTD both set [sdm3] 10.12.5; leaving x2APIC needs a disable
/// first, which this does not offer).
constexpr uint64_t apic_base_x2apic(uint64_t msr_value) { return msr_value | kApicBaseEnable | kApicBaseExtd; }
static_assert(apic_base_address(0xfee0'0900) == kLapicDefaultBase);
static_assert(apic_base_x2apic(0xfee0'0900) == 0xfee0'0d00);

/// IA32_TSC_DEADLINE [sdm3] 10.5.4.1.
inline constexpr uint32_t kIa32TscDeadline = 0x6e0;

// ---------------------------------------------------------------------------
// Encodings.

/// Version register [sdm3] 10.4.8 figure 10-7.
struct LapicVersion {
  uint8_t version;  // 0x1X for an integrated APIC (QEMU reports 0x14)
  uint8_t max_lvt;  // number of LVT entries minus 1
  bool eoi_broadcast_suppression;
};
constexpr LapicVersion decode_lapic_version(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 16), ((v >> 24) & 1) != 0};
}

/// SVR [sdm3] 10.9 figure 10-23: APIC software enable is bit 8.
inline constexpr uint32_t kSvrEnable = 1 << 8;
constexpr uint32_t svr_value(Vector spurious_vector, bool enable) {
  return spurious_vector.value | (enable ? kSvrEnable : 0);
}
static_assert(svr_value(Vector(0xff), true) == 0x1ff);

/// LVT mask bit [sdm3] 10.5.1 figure 10-8.
inline constexpr uint32_t kLvtMasked = 1 << 16;

/// LVT timer mode, bits 18:17 [sdm3] 10.5.4.1 table 10-2.
inline constexpr uint32_t kTimerModeBits = 0b11 << 17;
enum class TimerMode : uint32_t {
  kOneShot = 0b00 << 17,
  kPeriodic = 0b01 << 17,
  kTscDeadline = 0b10 << 17,  // only if CPUID.01H:ECX.TSC_Deadline[bit 24]
};
constexpr uint32_t lvt_timer_value(Vector vector, TimerMode mode, bool masked) {
  return vector.value | static_cast<uint32_t>(mode) | (masked ? kLvtMasked : 0);
}
static_assert(lvt_timer_value(Vector(0x20), TimerMode::kPeriodic, false) == 0x0002'0020);
static_assert(lvt_timer_value(Vector(0xef), TimerMode::kTscDeadline, false) == 0x0004'00ef);
static_assert(lvt_timer_value(Vector(0), TimerMode::kOneShot, true) == 0x0001'0000);

/// The performance-monitoring LVT delivering counter overflows (PMIs) as
/// NMIs, unmasked ([sdm3] 10.5.1 figure 10-8: delivery mode 100 = NMI in
/// bits 10:8, the vector is ignored). The CPU sets the mask bit when it
/// delivers a PMI, so the handler writes this again after every one
/// ([sdm3] 10.5.1, "the mask bit for its associated LVT entry is set").
/// `masked` holds PMIs off while counters are (re)programmed.
constexpr uint32_t lvt_perfmon_nmi(bool masked = false) { return (uint32_t{0b100} << 8) | (masked ? kLvtMasked : 0); }
static_assert(lvt_perfmon_nmi() == 0x0000'0400 && (lvt_perfmon_nmi() & kLvtMasked) == 0);
static_assert(lvt_perfmon_nmi(true) == 0x0001'0400);
static_assert(x2apic_msr(kLapicLvtPerfMon) == 0x834, "[sdm3] table 10-6: LVT performance monitoring is MSR 834H");

/// Divide configuration register values [sdm3] 10.5.4 figure 10-10: the
/// three-bit code lives in bits 0, 1 and 3, and counts from "by 2" (000)
/// up to "by 128" (110), with "by 1" as 111.
/// Divide configuration bits 0, 1 and 3 [sdm3] 10.5.4 figure 10-10.
inline constexpr uint32_t kDivideBits = 0b1011;
enum class TimerDivide : uint32_t {
  kBy1 = 0b1011,
  kBy2 = 0b0000,
  kBy4 = 0b0001,
  kBy8 = 0b0010,
  kBy16 = 0b0011,
  kBy32 = 0b1000,
  kBy64 = 0b1001,
  kBy128 = 0b1010,
};
/// The encoding for `divisor` (1, 2, 4, ..., 128); kInvalidArgument otherwise.
constexpr base::Result<TimerDivide> timer_divide(uint32_t divisor) {
  if (divisor == 0 || divisor > 128 || (divisor & (divisor - 1)) != 0) return base::Error::kInvalidArgument;
  uint32_t log2 = static_cast<uint32_t>(__builtin_ctz(divisor));
  uint32_t code = (log2 + 7) & 7;  // 1 -> 111, 2 -> 000, ..., 128 -> 110
  return static_cast<TimerDivide>((code & 0b011) | ((code & 0b100) << 1));
}
constexpr uint32_t timer_divisor(TimerDivide d) {
  uint32_t v = static_cast<uint32_t>(d);
  uint32_t code = (v & 0b011) | ((v >> 1) & 0b100);
  return 1u << ((code + 1) & 7);
}
static_assert(timer_divide(1).value() == TimerDivide::kBy1 && timer_divide(2).value() == TimerDivide::kBy2);
static_assert(timer_divide(16).value() == TimerDivide::kBy16 && timer_divide(32).value() == TimerDivide::kBy32);
static_assert(timer_divide(128).value() == TimerDivide::kBy128 && !timer_divide(3).ok() && !timer_divide(256).ok());
static_assert(timer_divisor(TimerDivide::kBy1) == 1 && timer_divisor(TimerDivide::kBy64) == 64);

/// ICR low doubleword [sdm3] 10.6.1 figure 10-12. Destination mode is
/// always physical (bit 11 clear).
enum class IcrDelivery : uint32_t { kFixed = 0, kNmi = 4, kInit = 5, kStartup = 6 };
enum class IcrShorthand : uint32_t { kNone = 0, kSelf = 1, kAllIncludingSelf = 2, kAllExcludingSelf = 3 };
inline constexpr uint32_t kIcrPending = 1 << 12;  // delivery status, xAPIC only
inline constexpr uint32_t kIcrAssert = 1 << 14;
inline constexpr uint32_t kIcrLevelTrigger = 1 << 15;

constexpr uint32_t icr_low(uint8_t vector, IcrDelivery delivery, IcrShorthand shorthand, bool assert,
                           bool level_trigger) {
  return vector | (static_cast<uint32_t>(delivery) << 8) | (assert ? kIcrAssert : 0) |
         (level_trigger ? kIcrLevelTrigger : 0) | (static_cast<uint32_t>(shorthand) << 18);
}
// The level flag must be 1 for every delivery mode except INIT de-assert
// [sdm3] 10.6.1.
constexpr uint32_t icr_fixed(Vector vector) {
  return icr_low(vector.value, IcrDelivery::kFixed, IcrShorthand::kNone, true, false);
}
constexpr uint32_t icr_fixed_all_but_self(Vector vector) {
  return icr_low(vector.value, IcrDelivery::kFixed, IcrShorthand::kAllExcludingSelf, true, false);
}
constexpr uint32_t icr_nmi() { return icr_low(0, IcrDelivery::kNmi, IcrShorthand::kNone, true, false); }
/// INIT, level-triggered assert; the de-assert is for pre-Pentium 4 parts
/// only [sdm3] 10.6.1, 8.4.4.1.
constexpr uint32_t icr_init_assert() { return icr_low(0, IcrDelivery::kInit, IcrShorthand::kNone, true, true); }
constexpr uint32_t icr_init_deassert() { return icr_low(0, IcrDelivery::kInit, IcrShorthand::kNone, false, true); }
/// STARTUP: the AP begins in real mode at vector_page * 4 KiB.
constexpr uint32_t icr_startup(uint8_t vector_page) {
  return icr_low(vector_page, IcrDelivery::kStartup, IcrShorthand::kNone, true, false);
}
static_assert(icr_fixed(Vector(0x40)) == 0x0000'4040);
static_assert(icr_fixed_all_but_self(Vector(0xf0)) == 0x000c'40f0);
static_assert(icr_nmi() == 0x0000'4400);
static_assert(icr_init_assert() == 0x0000'c500 && icr_init_deassert() == 0x0000'8500);
static_assert(icr_startup(0x08) == 0x0000'4608);

/// ICR high doubleword in xAPIC mode: an 8-bit destination in bits 31:24.
constexpr uint32_t xapic_icr_high(uint8_t apic_id) { return uint32_t{apic_id} << 24; }
/// The whole 64-bit ICR in x2APIC mode: a 32-bit destination in 63:32
/// [sdm3] 10.12.9.
constexpr uint64_t x2apic_icr(uint32_t apic_id, uint32_t low) { return (uint64_t{apic_id} << 32) | low; }
static_assert(xapic_icr_high(3) == 0x0300'0000 && x2apic_icr(0x1'0000, 0x4040) == 0x0001'0000'0000'4040);

/// The SIPI vector for trampoline code at physical `addr`: it must be
/// 4 KiB-aligned and below 1 MiB: the AP starts in real mode at CS:IP =
/// VV00:0000 [sdm3] 10.6.1. Vectors 0xA0-0xBF are reserved for STARTUP
/// ([mpspec] B.4.2; the legacy video hole, never RAM, anyway).
constexpr base::Result<uint8_t> sipi_vector(uint64_t addr) {
  if ((addr & 0xfff) != 0 || addr >= 0x10'0000) return base::Error::kInvalidArgument;
  uint64_t page = addr >> 12;
  if (page >= 0xa0 && page <= 0xbf) return base::Error::kInvalidArgument;
  return static_cast<uint8_t>(page);
}
static_assert(sipi_vector(0x8000).value() == 0x08 && !sipi_vector(0x8010).ok() && !sipi_vector(0xa'0000).ok());

// ---------------------------------------------------------------------------
// I/O: register access providers for the kernel. A Regs type provides
//   static constexpr bool kX2apic;
//   uint32_t read(uint32_t offset);  void write(uint32_t offset, uint32_t v);
//   void write_tsc_deadline(uint64_t tsc);
// and, for xAPIC, void relax() (the delivery-status spin), for x2APIC,
// void write_icr(uint64_t v).

/// xAPIC: the 4 KiB register page mapped uncached at `page`. Every access
/// is one aligned 32-bit load or plain store [sdm3] 10.4.1 (never a locked
/// read-modify-write, which the APIC does not support).
struct XapicMmio {
  static constexpr bool kX2apic = false;
  volatile uint32_t* page;

  uint32_t read(uint32_t offset) const { return page[offset / 4]; }
  void write(uint32_t offset, uint32_t v) const { page[offset / 4] = v; }
  void write_tsc_deadline(uint64_t tsc) const {
    // The uncached LVT store must reach the APIC before the deadline write,
    // or the deadline is dropped [sdm3] 10.5.4.1.
    asm volatile("mfence" ::: "memory");
    wrmsr(kIa32TscDeadline, tsc);
  }
  void relax() const { cpu_relax(); }
};

/// RDMSR/WRMSR as a provider (kernel platform).
struct CpuMsr {
  uint64_t read(uint32_t msr) const { return rdmsr(msr); }
  void write(uint32_t msr, uint64_t v) const { wrmsr(msr, v); }
};

/// x2APIC through an MSR provider (CpuMsr in the kernel, a fake in tests).
template <typename Msr = CpuMsr>
struct X2apicMsr {
  static constexpr bool kX2apic = true;
  Msr msr;

  uint32_t read(uint32_t offset) { return static_cast<uint32_t>(msr.read(x2apic_msr(offset))); }
  void write(uint32_t offset, uint32_t v) { msr.write(x2apic_msr(offset), v); }
  void write_icr(uint64_t v) {
    // WRMSR to x2APIC registers is not serializing: without a fence the
    // IPI can overtake this CPU's earlier stores, and the target would read
    // stale data [sdm3] 10.12.3.
    asm volatile("mfence; lfence" ::: "memory");
    msr.write(x2apic_msr(kLapicIcrLow), v);
  }
  // The LVT write is itself a WRMSR here, ordered with this one; no fence
  // [sdm3] 10.5.4.1.
  void write_tsc_deadline(uint64_t tsc) { msr.write(kIa32TscDeadline, tsc); }
};

// ---------------------------------------------------------------------------
// Logic.

/// What a LAPIC timer is programmed to do, for Lapic::restore_timer(): the
/// LVT (vector, mode, mask), the divide configuration, and the count — for
/// a one-shot what it has still to go, for a periodic timer its period.
struct LapicTimerSetting {
  uint32_t lvt;
  uint32_t divide;
  uint32_t count;
};

/// Whether Lapic::restore_timer() can put `s` back: not in TSC-deadline
/// mode, whose deadline is an MSR that leaving the mode disarms ([sdm3]
/// 10.5.4.1) and that the setting does not hold.
constexpr bool timer_restorable(const LapicTimerSetting& s) {
  return (s.lvt & kTimerModeBits) != static_cast<uint32_t>(TimerMode::kTscDeadline);
}

template <typename Regs>
class Lapic {
 public:
  static constexpr bool kX2apic = Regs::kX2apic;
  /// Bound on the xAPIC delivery-status spin (each pass calls relax()).
  static constexpr uint32_t kDefaultIcrSpinLimit = 1'000'000;

  explicit constexpr Lapic(Regs regs, uint32_t icr_spin_limit = kDefaultIcrSpinLimit)
      : regs_(regs), icr_spin_limit_(icr_spin_limit) {}

  /// This CPU's APIC id: 8 bits (31:24) in xAPIC mode, 32 in x2APIC
  /// [sdm3] 10.4.6, 10.12.5.1.
  ApicId id() {
    uint32_t v = regs_.read(kLapicId);
    return ApicId(kX2apic ? v : v >> 24);
  }

  LapicVersion version() { return decode_lapic_version(regs_.read(kLapicVersion)); }

  /// Software-enables the APIC with `spurious_vector`, writing the whole
  /// SVR (focus checking on, EOI broadcast not suppressed) [sdm3] 10.4.3.
  void enable(Vector spurious_vector) { regs_.write(kLapicSvr, svr_value(spurious_vector, true)); }
  /// Software-disables it; LVT entries read as masked until re-enabled.
  void disable(Vector spurious_vector) { regs_.write(kLapicSvr, svr_value(spurious_vector, false)); }

  /// Accepts every interrupt priority class (TPR 0) or blocks classes <= priority >> 4.
  void set_task_priority(uint8_t priority) { regs_.write(kLapicTpr, priority); }

  /// Routes APIC errors to `vector` (unmasked).
  void set_error_vector(Vector vector) { regs_.write(kLapicLvtError, vector.value); }

  /// Errors logged since the last call. The ESR latches on a write, so
  /// write (only 0 is allowed in x2APIC mode) then read [sdm3] 10.5.3.
  uint32_t read_error_status() {
    regs_.write(kLapicEsr, 0);
    return regs_.read(kLapicEsr);
  }

  /// Signals end of interrupt for the in-service vector; x2APIC #GPs on a
  /// nonzero write [sdm3] 10.8.5, 10.12.1.2.
  void eoi() { regs_.write(kLapicEoi, 0); }

  /// Routes counter overflows (PMIs) to this CPU as NMIs, masked or not
  /// (lvt_perfmon_nmi).
  void set_perfmon_nmi(bool masked) { regs_.write(kLapicLvtPerfMon, lvt_perfmon_nmi(masked)); }

  // Timer [sdm3] 10.5.4. Divide and LVT first: the initial-count write
  // starts the count.

  /// Interrupts at `vector` once after count * divisor bus clocks.
  void start_timer_one_shot(Vector vector, TimerDivide divide, uint32_t count) {
    program_timer(lvt_timer_value(vector, TimerMode::kOneShot, false), divide, count);
  }
  /// Interrupts at `vector` every count * divisor bus clocks.
  void start_timer_periodic(Vector vector, TimerDivide divide, uint32_t count) {
    program_timer(lvt_timer_value(vector, TimerMode::kPeriodic, false), divide, count);
  }
  /// A masked one-shot count down from 0xffff'ffff, for calibration:
  /// read timer_current_count() before and after a known interval.
  void start_timer_free_running(TimerDivide divide) {
    program_timer(lvt_timer_value(Vector(0), TimerMode::kOneShot, true), divide, 0xffff'ffff);
  }
  uint32_t timer_current_count() { return regs_.read(kLapicTimerCurrentCount); }

  /// TSC-deadline mode (check CpuFeatures::tsc_deadline first): the timer
  /// then interrupts at `vector` when the TSC reaches an armed deadline.
  void set_timer_tsc_deadline(Vector vector) {
    regs_.write(kLapicLvtTimer, lvt_timer_value(vector, TimerMode::kTscDeadline, false));
  }
  /// Arms (or moves) the deadline; 0 disarms. A moved or disarmed deadline
  /// can still deliver one stale interrupt: handlers check the TSC.
  void arm_tsc_deadline(uint64_t tsc) { regs_.write_tsc_deadline(tsc); }

  /// The timer's setting, for restore_timer() (LapicTimerSetting).
  LapicTimerSetting timer_setting() {
    uint32_t lvt = regs_.read(kLapicLvtTimer);
    bool periodic = (lvt & kTimerModeBits) == static_cast<uint32_t>(TimerMode::kPeriodic);
    return {lvt, regs_.read(kLapicTimerDivide) & kDivideBits,
            regs_.read(periodic ? kLapicTimerInitialCount : kLapicTimerCurrentCount)};
  }
  /// Puts back a timer_restorable() timer_setting(): a one-shot resumes its
  /// remaining count (one that had fired, count 0, stays stopped), a
  /// periodic timer restarts its period.
  void restore_timer(const LapicTimerSetting& s) {
    regs_.write(kLapicTimerDivide, s.divide);
    regs_.write(kLapicLvtTimer, s.lvt);
    regs_.write(kLapicTimerInitialCount, s.count);
  }

  /// Stops any timer mode: count 0, then masked one-shot (a mode change
  /// also disarms a TSC deadline).
  void stop_timer() {
    regs_.write(kLapicTimerInitialCount, 0);
    regs_.write(kLapicLvtTimer, lvt_timer_value(Vector(0), TimerMode::kOneShot, true));
  }

  // IPIs. Destinations are physical APIC ids; xAPIC ids are 8 bits.

  /// A fixed interrupt at `vector` (>= 32: lower vectors are exceptions).
  base::Status send_fixed(ApicId apic_id, Vector vector) {
    if (vector.value < 32) return base::Error::kInvalidArgument;
    return send(apic_id, icr_fixed(vector));
  }
  base::Status send_fixed_all_but_self(Vector vector) {
    if (vector.value < 32) return base::Error::kInvalidArgument;
    return send(ApicId(0), icr_fixed_all_but_self(vector));
  }
  base::Status send_nmi(ApicId apic_id) { return send(apic_id, icr_nmi()); }
  base::Status send_init(ApicId apic_id) { return send(apic_id, icr_init_assert()); }
  base::Status send_init_deassert(ApicId apic_id) { return send(apic_id, icr_init_deassert()); }
  /// STARTUP with a vector from sipi_vector().
  base::Status send_startup(ApicId apic_id, uint8_t vector_page) { return send(apic_id, icr_startup(vector_page)); }

  /// An NMI to `apic_id` from NMI context, which may have interrupted this
  /// CPU's own send() between its two xAPIC ICR writes or while it polled
  /// delivery status. So: wait until no send is pending (ours must not
  /// overwrite one in flight), send, then put back the ICR high dword the
  /// interrupted send wrote, so that its low write still reaches its CPU.
  /// x2APIC's ICR is one WRMSR: nothing to interleave [sdm3] 10.12.9.
  base::Status send_nmi_from_nmi(ApicId apic_id) {
    if constexpr (kX2apic) {
      return send(apic_id, icr_nmi());
    } else {
      if (base::Status s = wait_icr_idle(); !s.ok()) return s;
      const uint32_t interrupted_high = regs_.read(kLapicIcrHigh);
      base::Status s = send(apic_id, icr_nmi());
      regs_.write(kLapicIcrHigh, interrupted_high);
      return s;
    }
  }

  /// Writes any ICR low value to `apic_id`. xAPIC: high then low (the low
  /// write sends), then waits until delivery status reads idle, calling
  /// relax() between reads; kTimedOut after the spin limit. x2APIC: one
  /// 64-bit write and no status to wait for [sdm3] 10.12.9.
  base::Status send(ApicId apic_id, uint32_t low) {
    if constexpr (kX2apic) {
      regs_.write_icr(x2apic_icr(apic_id.value, low));
      return base::Status::Ok();
    } else {
      if (!apic_id.fits_xapic()) return base::Error::kInvalidArgument;
      regs_.write(kLapicIcrHigh, xapic_icr_high(static_cast<uint8_t>(apic_id.value)));
      regs_.write(kLapicIcrLow, low);
      return wait_icr_idle();
    }
  }

  Regs& regs() { return regs_; }

 private:
  // xAPIC: polls delivery status until idle, calling relax() between
  // reads; kTimedOut after the spin limit.
  base::Status wait_icr_idle() {
    for (uint32_t i = 0; i < icr_spin_limit_; ++i) {
      if ((regs_.read(kLapicIcrLow) & kIcrPending) == 0) return base::Status::Ok();
      regs_.relax();
    }
    return base::Error::kTimedOut;
  }

  void program_timer(uint32_t lvt, TimerDivide divide, uint32_t count) {
    regs_.write(kLapicTimerDivide, static_cast<uint32_t>(divide));
    regs_.write(kLapicLvtTimer, lvt);
    regs_.write(kLapicTimerInitialCount, count);
  }

  Regs regs_;
  uint32_t icr_spin_limit_;
};

}  // namespace arch
