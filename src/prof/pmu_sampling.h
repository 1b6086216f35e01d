// Sampling from PMU counter overflows (issue 13, items 1 and 9: `prof start
// [HZ] cycles|instructions|branch-misses|llc-misses`): which events the PMU
// can sample, how many events go between two samples for a rate in Hz, and
// one CPU's sampling state -- arm general counter 0 with the performance LVT
// masked, answer each PMI (acknowledge, re-arm with a new random reload,
// unmask the LVT), disarm. Templated on the MSR provider and the LAPIC so
// the whole arm -> PMI -> acknowledge -> re-arm sequence is host-tested on
// the fake MSR bank; the kernel glue (pmu_sampler.h) only picks
// arch::CpuMsr and this CPU's LAPIC. Pure.
#pragma once

#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/prof/dump_format.h"
#include "src/prof/lbr.h"
#include "src/prof/pmc.h"
#include "src/prof/pmu.h"

namespace prof {

/// The counter event a PMU sample event counts (is_pmu_event(e) only).
constexpr Event pmu_event(SampleEvent e) {
  return static_cast<Event>(static_cast<uint8_t>(e) - static_cast<uint8_t>(SampleEvent::kCycles));
}
constexpr SampleEvent sample_event(Event e) {
  return static_cast<SampleEvent>(static_cast<uint8_t>(e) + static_cast<uint8_t>(SampleEvent::kCycles));
}
static_assert(pmu_event(SampleEvent::kCycles) == Event::kCycles &&
              pmu_event(SampleEvent::kInstructions) == Event::kInstructions &&
              pmu_event(SampleEvent::kBranchMisses) == Event::kBranchMisses &&
              pmu_event(SampleEvent::kLlcMisses) == Event::kLlcMisses);
static_assert(sample_event(Event::kLlcMisses) == SampleEvent::kLlcMisses);

/// Why `e` cannot be sampled on `pmu` (a static string), or null when it
/// can. Without a PMU, the reason discovery gave (PmuInfo::none_reason).
inline const char* pmu_event_unavailable(const PmuInfo& pmu, Event e) {
  if (pmu.kind == PmuKind::kNone) return pmu.none_reason != nullptr ? pmu.none_reason : "no PMU was found";
  if (event_code(pmu, e).ok()) return nullptr;
  if (pmu.kind == PmuKind::kIntelArch) return "CPUID.0AH:EBX reports the architectural event unavailable";
  return "AMD core counters do not count last-level cache misses (the L3 counters do)";
}

/// Events per second `e` is assumed to run at on a CPU whose TSC ticks at
/// `tsc_hz`, to turn a sampling rate into a reload. Cycles: the TSC rate
/// (the core clock is near it; turbo and power states move it, and a
/// halted CPU counts no unhalted cycles, so an idle CPU gives fewer
/// samples -- which is the point of the event). The others have no
/// measurable rate before they run; these defaults assume one instruction
/// a cycle, a mispredicted branch every 500 cycles and a last-level miss
/// every 10,000, so their real sample rates vary with the workload -- by
/// as much as the event itself does.
constexpr uint64_t assumed_event_rate(Event e, uint64_t tsc_hz) {
  switch (e) {
    case Event::kCycles:
    case Event::kInstructions:
      return tsc_hz;
    case Event::kBranchMisses:
      return tsc_hz / 500;
    case Event::kLlcMisses:
      return tsc_hz / 10'000;
  }
  return 0;
}

/// The range each reload is drawn from, in events.
struct PeriodRange {
  uint64_t min;
  uint64_t max;
  bool operator==(const PeriodRange&) const = default;
};

/// How far reloads spread around the mean: +-50%, so that samples do not
/// alias with periodic work while the mean rate stays `hz`.
inline constexpr uint64_t kPeriodSpreadPercent = 50;

/// The reload range for `hz` samples a second of an event that runs at
/// `rate` a second: mean = rate / hz, spread +-kPeriodSpreadPercent (so
/// the draws' mean is the mean); when the top would pass `max_reload`,
/// the mean moves down until it does not (the rate is then higher than
/// asked). kInvalidArgument for hz 0 or a rate
/// below hz (less than one event a sample, e.g. an uncalibrated TSC),
/// kUnsupported when max_reload is 0 (no PMU).
inline base::Result<PeriodRange> sample_period_range(uint64_t rate, uint32_t hz, uint64_t max_reload) {
  if (max_reload == 0) return base::Error::kUnsupported;
  if (hz == 0 || rate < hz) return base::Error::kInvalidArgument;
  // x * kPeriodSpreadPercent / 100 without overflow.
  auto spread_of = [](uint64_t x) { return x / 100 * kPeriodSpreadPercent + x % 100 * kPeriodSpreadPercent / 100; };
  uint64_t mean = rate / hz;
  // Too long a period for the counter: the longest it takes, still spread.
  if (mean + spread_of(mean) > max_reload || mean + spread_of(mean) < mean) {
    mean = max_reload / (100 + kPeriodSpreadPercent) * 100;  // a multiple of 100: spread_of is exact
    if (mean == 0) mean = 1;
  }
  const uint64_t spread = spread_of(mean);
  const uint64_t lo = mean - spread;
  return PeriodRange{lo == 0 ? 1 : lo, mean + spread};
}

/// A small per-CPU generator for the reloads (xorshift64, Marsaglia 2003):
/// cheap in NMI context, and spread enough to break aliasing.
class XorShift64 {
 public:
  /// Seeded from the TSC and the CPU's index, so CPUs do not draw in step.
  explicit constexpr XorShift64(uint64_t tsc = 0, uint32_t cpu = 0)
      : s_(tsc ^ ((uint64_t{cpu} + 1) * 0x9e37'79b9'7f4a'7c15)) {
    if (s_ == 0) s_ = 0x9e37'79b9'7f4a'7c15;  // zero is a fixed point
  }
  uint64_t next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }

 private:
  uint64_t s_;
};

/// The general counter every CPU samples with.
inline constexpr uint8_t kSampleCounter = 0;

/// What another CPU asks a CPU's NMI handler to do to that CPU's own
/// counter (only a CPU can program its own MSRs and LAPIC): disarm as it
/// goes offline, arm for the running profile as it comes back.
enum class PmuRequest : uint32_t { kNone = 0, kArm = 1, kDisarm = 2 };

/// One CPU's PMU sampling. arm and disarm run on the CPU it belongs to
/// with interrupts off (so the thread stays there); on_nmi is that CPU's
/// NMI handler, which can interrupt neither half way through: the LVT is
/// masked while the counter changes, and `armed_` (read by on_nmi) is set
/// only once it is whole and cleared before it is torn down. `Lapic`
/// provides set_perfmon_nmi(bool masked) (arch::Lapic).
///
/// With an LBR stack (init's `lbr`, for `prof start ... lbr`), arm also
/// enables it (kernel branches only, frozen at each PMI), on_nmi reads it
/// into the caller's branches before it answers the PMI, and disarm
/// disables it.
template <typename Msr>
class CpuPmuSampler {
 public:
  /// Forgets any previous state (call disarmed): `pmu` as discovered,
  /// the MSR provider, the generator's seed, and the LBR stack to record
  /// with each sample (null: none).
  void init(const PmuInfo& pmu, Msr msr, XorShift64 rng, const LbrInfo* lbr = nullptr) {
    pmc_ = Pmc<Msr>(pmu, msr);
    rng_ = rng;
    lbr_ = LbrStack<Msr>(lbr != nullptr ? *lbr : LbrInfo{}, msr);
    lbr_wanted_ = lbr != nullptr;
    armed_.store(0, base::MemoryOrder::kRelaxed);
  }

  /// Masks the performance LVT, arms kSampleCounter for `cfg` and routes
  /// its overflow as an unmasked NMI. On an error (Pmc::start's) nothing
  /// is armed and the LVT stays masked.
  template <typename Lapic>
  base::Status arm(Lapic& lapic, const SampleConfig& cfg) {
    if (armed())
      disarm(lapic);  // which masks
    else
      lapic.set_perfmon_nmi(true);
    if (base::Status s = pmc_.start(kSampleCounter, cfg, rng_); !s.ok()) return s;
    if (lbr_wanted_) {
      if (base::Status s = lbr_.enable(kLbrSelectKernelOnly); !s.ok()) {
        (void)pmc_.stop_all();
        return s;
      }
    }
    // The NMI handler runs on this CPU: a compiler barrier orders these.
    armed_.store(1, base::MemoryOrder::kRelaxed);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    lapic.set_perfmon_nmi(false);
    return base::Status::Ok();
  }

  /// The NMI handler's first step: if sampling is armed and a counter
  /// overflowed, acknowledge it and re-arm with a new reload
  /// (Pmc::on_pmi), then unmask the LVT, which the PMI delivery masked
  /// ([sdm3] 10.5.1, lvt_perfmon_nmi; Linux's x86_pmu_handle_irq rewrites
  /// APIC_LVTPC as NMI on every PMI for the same reason). Returns which
  /// counters overflowed: none means this NMI was not our PMI, and the LVT
  /// is left as it is.
  ///
  /// With the LBR on, the stack is read into branches[0..cap) first,
  /// while the PMI holds it frozen: the acknowledgement clears perfmon
  /// v4's LBR_FRZ along with the overflow ([sdm3] 17.4.7), so reading
  /// after it would record the handler's own branches. Recording resumes
  /// (LbrStack::unfreeze) once the PMI is answered. `*n_branches` is how
  /// many were stored: 0 without the LBR, or when this NMI was no PMI (a
  /// read that is then thrown away: the stack was not frozen).
  template <typename Lapic>
  OverflowSet on_nmi(Lapic& lapic, SampleBranch* branches = nullptr, size_t cap = 0, size_t* n_branches = nullptr) {
    if (n_branches != nullptr) *n_branches = 0;
    if (!armed()) return {0};
    LbrEntry read[kMaxSampleBranches];
    const bool lbr = lbr_wanted_ && branches != nullptr && n_branches != nullptr;
    const size_t n = lbr ? lbr_.read(read, cap < kMaxSampleBranches ? cap : kMaxSampleBranches) : 0;
    const OverflowSet ov = pmc_.on_pmi(rng_);
    if (ov.bits == 0) return ov;
    if (lbr_wanted_) (void)lbr_.unfreeze();
    for (size_t i = 0; i < n; ++i) branches[i] = SampleBranch{read[i].from, read[i].to, read[i].mispredicted};
    if (lbr) *n_branches = n;
    lapic.set_perfmon_nmi(false);
    return ov;
  }

  /// Masks the LVT and stops the counters. Does nothing when not armed.
  template <typename Lapic>
  void disarm(Lapic& lapic) {
    if (!armed()) return;
    lapic.set_perfmon_nmi(true);
    armed_.store(0, base::MemoryOrder::kRelaxed);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    (void)pmc_.stop_all();
    if (lbr_wanted_) (void)lbr_.disable();
  }

  /// Whether arm() also records branches.
  bool lbr_on() const { return lbr_wanted_; }

  bool armed() const { return armed_.load(base::MemoryOrder::kRelaxed) != 0; }

  /// Another CPU's request (one asker at a time, which waits for
  /// answered() before posting again): `cfg` is what kArm arms with. The
  /// asker then sends this CPU an NMI. Release: the handler that sees the
  /// request sees `cfg`.
  void post(PmuRequest r, const SampleConfig& cfg) {
    cfg_ = cfg;
    status_ = base::Status::Ok();
    answered_.store(0, base::MemoryOrder::kRelaxed);
    request_.store(static_cast<uint32_t>(r), base::MemoryOrder::kRelease);
  }

  /// This CPU's NMI handler: carries out a posted request (arm as arm()
  /// does, or disarm) and publishes the answer. False when none was
  /// posted (nothing touched).
  template <typename Lapic>
  bool answer(Lapic& lapic) {
    const uint32_t r = request_.exchange(0, base::MemoryOrder::kAcquire);
    if (r == static_cast<uint32_t>(PmuRequest::kNone)) return false;
    if (r == static_cast<uint32_t>(PmuRequest::kArm))
      status_ = arm(lapic, cfg_);
    else
      disarm(lapic);
    answered_.store(1, base::MemoryOrder::kRelease);
    return true;
  }

  /// Takes back a posted request the handler has not started (true), e.g.
  /// after the asker's NMI went unanswered; false when it has, and its
  /// answer is on the way.
  bool withdraw() { return request_.exchange(0, base::MemoryOrder::kAcqRel) != 0; }

  /// Whether the last posted request was carried out (acquire: then
  /// answer_status() and armed() are its outcome).
  bool answered() const { return answered_.load(base::MemoryOrder::kAcquire) != 0; }
  /// The last answered kArm's result (Ok for a disarm).
  base::Status answer_status() const { return status_; }

 private:
  Pmc<Msr> pmc_{PmuInfo{}, Msr{}};
  XorShift64 rng_;
  LbrStack<Msr> lbr_{LbrInfo{}, Msr{}};
  bool lbr_wanted_ = false;
  base::Atomic<uint32_t> armed_{0};
  // post/answer: written by the asker before `request_` (release), read
  // by the handler after it (acquire), and back through `answered_`.
  SampleConfig cfg_{};
  base::Status status_ = base::Status::Ok();
  base::Atomic<uint32_t> request_{0};
  base::Atomic<uint32_t> answered_{0};
};

}  // namespace prof
