// Counter programming for sampling: arm a general counter for an event with a
// randomised reload and an overflow interrupt, and the PMI handler's logic.
// Templated on the MSR provider (arch::CpuMsr in the kernel, fakes in tests).
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"
#include "src/prof/pmu.h"

namespace prof {

// ---------------------------------------------------------------------------
// Layout: MSRs ([sdm3] 18.2.1.1, 18.2.2, 18.2.4; [apm2] 13.2).

inline constexpr uint32_t kIa32Pmc0 = 0x0c1;         // IA32_PMCx = 0xC1 + x
inline constexpr uint32_t kIa32Perfevtsel0 = 0x186;  // IA32_PERFEVTSELx = 0x186 + x
inline constexpr uint32_t kIa32Debugctl = 0x1d9;
inline constexpr uint32_t kIa32FixedCtrCtrl = 0x38d;
inline constexpr uint32_t kIa32PerfGlobalStatus = 0x38e;
inline constexpr uint32_t kIa32PerfGlobalCtrl = 0x38f;
/// IA32_PERF_GLOBAL_OVF_CTRL; from v4 the same MSR is named
/// IA32_PERF_GLOBAL_STATUS_RESET and also clears the freeze bits.
inline constexpr uint32_t kIa32PerfGlobalOvfCtrl = 0x390;
inline constexpr uint32_t kAmdPerfEvtSel0 = 0xc001'0000;  // K7 PerfEvtSel0..3
inline constexpr uint32_t kAmdPerfCtr0 = 0xc001'0004;     // K7 PerfCtr0..3
inline constexpr uint32_t kAmdPerfCtl0 = 0xc001'0200;     // PERF_CTL0..5, stride 2
inline constexpr uint32_t kAmdPerfCtr0Ext = 0xc001'0201;  // PERF_CTR0..5, stride 2

/// IA32_DEBUGCTL bits [sdm3] 17.4.1: on a PMI the CPU freezes the LBRs
/// (bit 11) or the counters (bit 12) until software unfreezes them.
inline constexpr uint64_t kDebugctlFreezeLbrsOnPmi = uint64_t{1} << 11;
inline constexpr uint64_t kDebugctlFreezePerfmonOnPmi = uint64_t{1} << 12;

/// IA32_PERF_GLOBAL_STATUS bits beyond the per-counter overflow bits
/// (general x at bit x, fixed x at bit 32 + x) [sdm3] 18.2.2, 18.2.4.1:
/// LBR_FRZ and CTR_FRZ (v4: set while frozen by a PMI), OvfBuffer (PEBS/DS)
/// and CondChgd. Writing them to OVF_CTRL clears them.
inline constexpr uint64_t kGlobalLbrFrz = uint64_t{1} << 58;
inline constexpr uint64_t kGlobalCtrFrz = uint64_t{1} << 59;
inline constexpr uint64_t kGlobalOvfBuffer = uint64_t{1} << 62;
inline constexpr uint64_t kGlobalCondChgd = uint64_t{1} << 63;

/// Event-select fields, the same low 32 bits in IA32_PERFEVTSELx ([sdm3]
/// 18.2.1.1 figure 18-1) and AMD PERF_CTL ([apm2] 13.2), which adds
/// event-select bits 11:8 at 35:32.
inline constexpr uint64_t kEvtselUsr = uint64_t{1} << 16;
inline constexpr uint64_t kEvtselOs = uint64_t{1} << 17;
inline constexpr uint64_t kEvtselInt = uint64_t{1} << 20;
inline constexpr uint64_t kEvtselEn = uint64_t{1} << 22;

/// Which privilege levels a counter counts in.
enum class CountMode : uint8_t { kKernel, kUser, kBoth };

/// The event-select value: event and unit mask, mode bits, INT, EN.
constexpr uint64_t evtsel_value(EventCode code, CountMode mode, bool enable) {
  uint64_t v =
      (code.event & 0xffu) | (uint64_t{code.umask} << 8) | (static_cast<uint64_t>((code.event >> 8) & 0xf) << 32);
  if (mode != CountMode::kUser) v |= kEvtselOs;
  if (mode != CountMode::kKernel) v |= kEvtselUsr;
  return v | kEvtselInt | (enable ? kEvtselEn : 0);
}
static_assert(evtsel_value({0x3c, 0}, CountMode::kKernel, true) == 0x0052'003c);
static_assert(evtsel_value({0x2e, 0x41}, CountMode::kBoth, false) == 0x0013'412e);

/// The counter value that overflows after `events` events: the negative
/// count in a `width`-bit counter.
constexpr uint64_t reload_value(uint64_t events, uint8_t width) {
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  return (0 - events) & mask;
}
static_assert(reload_value(1, 48) == 0xffff'ffff'ffff && reload_value(0x1000, 40) == 0xff'ffff'f000);

/// A draw in [min, max] from `rng`, the caller's random source
/// (`uint64_t next()`: tests script it, the kernel picks its generator).
/// max - min + 1 must not wrap; the modulo's bias is below 2^-16 for
/// ranges under 2^48 and does not matter for spreading samples.
template <typename Rng>
uint64_t random_in(Rng& rng, uint64_t min, uint64_t max) {
  return min + rng.next() % (max - min + 1);
}

/// How one counter samples: the event, the modes, and the range each
/// reload is drawn from (in events). 1 <= min <= max <= max_reload(pmu).
struct SampleConfig {
  Event event;
  CountMode mode;
  uint64_t min_period;
  uint64_t max_period;
};

/// The counters a PMI found overflowed (bit x = general counter x).
struct OverflowSet {
  uint32_t bits;
  bool operator==(const OverflowSet&) const = default;
};

// ---------------------------------------------------------------------------
// Logic.

/// One CPU's general counters (the fixed ones are not used: their
/// IA32_PERF_GLOBAL_CTRL bits are written 0). Contexts: start and stop_all
/// on the CPU the Pmc belongs to, with preemption off and the performance
/// LVT masked, since on_pmi (its NMI handler: no locks, no allocation, only
/// this object and MSRs) would otherwise see a half-armed counter.
template <typename Msr>
class Pmc {
 public:
  constexpr Pmc(const PmuInfo& pmu, Msr msr) : pmu_(pmu), msr_(msr) {}

  /// Arms general counter `counter` for `cfg` with a reload drawn from
  /// [min_period, max_period]. Errors (no MSR touched): kUnsupported
  /// without a PMU or for an event the CPU lacks, kOutOfRange for a
  /// counter it does not have, kInvalidArgument for a bad period range.
  template <typename Rng>
  base::Status start(uint8_t counter, const SampleConfig& cfg, Rng& rng) {
    if (pmu_.kind == PmuKind::kNone) return base::Error::kUnsupported;
    if (counter >= pmu_.gp_counters) return base::Error::kOutOfRange;
    base::Result<EventCode> code = event_code(pmu_, cfg.event);
    if (!code.ok()) return code.error();
    if (cfg.min_period == 0 || cfg.min_period > cfg.max_period || cfg.max_period > max_reload(pmu_))
      return base::Error::kInvalidArgument;

    armed_[counter] = {evtsel_value(code.value(), cfg.mode, true), cfg.min_period, cfg.max_period};
    const uint32_t bit = 1u << counter;
    armed_mask_ |= bit;
    // Disable before loading the count, so it does not run from a stale
    // value, then enable with the final selection [sdm3] 18.2.1.1.
    msr_.write(ctl_msr(counter), 0);
    arm(counter, rng);
    msr_.write(ctl_msr(counter), armed_[counter].evtsel);
    if (pmu_.freeze_on_pmi) {
      // Freeze on PMI so the handler reads counters that stopped at the
      // overflow, and enable the counter globally (v2+ gates every
      // counter through IA32_PERF_GLOBAL_CTRL [sdm3] 18.2.2, 17.4.7).
      msr_.write(kIa32Debugctl, msr_.read(kIa32Debugctl) | kDebugctlFreezePerfmonOnPmi);
      msr_.write(kIa32PerfGlobalCtrl, armed_mask_);
    }
    return base::Status::Ok();
  }

  /// Stops every counter this object armed. kUnsupported without a PMU.
  /// On Intel v2+ it then clears the armed counters' overflow bits (and
  /// the freeze bits) in the global status: one left there from the last
  /// moments would make the next profile's first PMI take a stale sample.
  base::Status stop_all() {
    if (pmu_.kind == PmuKind::kNone) return base::Error::kUnsupported;
    if (pmu_.freeze_on_pmi) msr_.write(kIa32PerfGlobalCtrl, 0);
    for_each(armed_mask_, [&](uint8_t c) { msr_.write(ctl_msr(c), 0); });
    if (pmu_.freeze_on_pmi) {
      // Only bits the status shows: v2/v3 reserve the freeze bits, and a
      // reserved bit written 1 faults, as in on_pmi_global.
      const uint64_t status = msr_.read(kIa32PerfGlobalStatus);
      const uint64_t ack =
          status & (uint64_t{armed_mask_} | kGlobalLbrFrz | kGlobalCtrFrz | kGlobalOvfBuffer | kGlobalCondChgd);
      if (ack != 0) msr_.write(kIa32PerfGlobalOvfCtrl, ack);
    }
    armed_mask_ = 0;
    return base::Status::Ok();
  }

  /// The PMI (NMI) handler's counter work: finds the armed counters that
  /// overflowed, reloads each with a new random period, acknowledges the
  /// overflow and lets the counters run again. Returns which overflowed
  /// (empty: the NMI was not a counter overflow of ours). The caller then
  /// unmasks the LVT (arch::lvt_perfmon_nmi()), which the PMI masked.
  template <typename Rng>
  OverflowSet on_pmi(Rng& rng) {
    if (pmu_.kind == PmuKind::kNone || armed_mask_ == 0) return {0};
    return pmu_.freeze_on_pmi ? on_pmi_global(rng) : on_pmi_freezeless(rng);
  }

  uint32_t armed_mask() const { return armed_mask_; }

 private:
  struct Armed {
    uint64_t evtsel;
    uint64_t min_period, max_period;
  };

  template <typename Fn>
  static void for_each(uint32_t mask, Fn fn) {
    for (uint8_t c = 0; c < kMaxCounters; ++c)
      if ((mask >> c) & 1) fn(c);
  }

  uint32_t ctl_msr(uint8_t c) const {
    switch (pmu_.kind) {
      case PmuKind::kAmdCore:
        return kAmdPerfCtl0 + 2u * c;
      case PmuKind::kAmdLegacy:
        return kAmdPerfEvtSel0 + c;
      default:
        return kIa32Perfevtsel0 + c;
    }
  }
  uint32_t ctr_msr(uint8_t c) const {
    switch (pmu_.kind) {
      case PmuKind::kAmdCore:
        return kAmdPerfCtr0Ext + 2u * c;
      case PmuKind::kAmdLegacy:
        return kAmdPerfCtr0 + c;
      default:
        return kIa32Pmc0 + c;
    }
  }

  template <typename Rng>
  void arm(uint8_t c, Rng& rng) {
    const uint64_t events = random_in(rng, armed_[c].min_period, armed_[c].max_period);
    msr_.write(ctr_msr(c), reload_value(events, pmu_.gp_width));
  }

  // Intel v2+: the CPU froze the counters at the PMI (v2/v3 by clearing
  // IA32_PERF_GLOBAL_CTRL, v4 by setting CTR_FRZ [sdm3] 17.4.7, 18.2.4.1).
  // Re-arm, acknowledge (which on v4 also clears CTR_FRZ), then re-enable
  // globally (which v2/v3 need); counters stay still until that last write.
  template <typename Rng>
  OverflowSet on_pmi_global(Rng& rng) {
    const uint64_t status = msr_.read(kIa32PerfGlobalStatus);
    const uint32_t overflowed = static_cast<uint32_t>(status) & armed_mask_;
    const uint64_t ack = status & (overflowed | kGlobalLbrFrz | kGlobalCtrFrz | kGlobalOvfBuffer | kGlobalCondChgd);
    if (overflowed == 0 && ack == 0) return {0};
    for_each(overflowed, [&](uint8_t c) { arm(c, rng); });
    msr_.write(kIa32PerfGlobalOvfCtrl, ack);
    msr_.write(kIa32PerfGlobalCtrl, armed_mask_);
    return {overflowed};
  }

  // Intel v1 and AMD: no freeze and no global status. Stop every armed
  // counter first (so none runs on while the handler works), find the
  // overflowed ones by their top bit -- each started negative, with the
  // top bit set, and wrapped past zero -- re-arm those, restart all.
  template <typename Rng>
  OverflowSet on_pmi_freezeless(Rng& rng) {
    for_each(armed_mask_, [&](uint8_t c) { msr_.write(ctl_msr(c), armed_[c].evtsel & ~kEvtselEn); });
    uint32_t overflowed = 0;
    const uint64_t top = uint64_t{1} << (pmu_.gp_width - 1);
    for_each(armed_mask_, [&](uint8_t c) {
      if ((msr_.read(ctr_msr(c)) & top) == 0) overflowed |= 1u << c;
    });
    for_each(overflowed, [&](uint8_t c) { arm(c, rng); });
    for_each(armed_mask_, [&](uint8_t c) { msr_.write(ctl_msr(c), armed_[c].evtsel); });
    return {overflowed};
  }

  PmuInfo pmu_;
  Msr msr_;
  Armed armed_[kMaxCounters] = {};
  uint32_t armed_mask_ = 0;
};

}  // namespace prof
