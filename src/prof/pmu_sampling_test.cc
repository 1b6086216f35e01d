// PMU sampling's pure parts (event mapping and availability, the reload
// range from a rate, the generator) and one CPU's arm -> PMI ->
// acknowledge -> re-arm -> disarm sequence on the fake MSR bank, with the
// performance LVT as x2APIC MSR 834H in the same bank so the log shows the
// LVT and counter writes in their real order. PMUs come from real CPUID
// captures (testdata/cpuid) and QEMU TCG's (testdata/boot).
#include "src/prof/pmu_sampling.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/arch/lapic.h"
#include "src/arch/testing/fake_cpuid.h"
#include "src/arch/testing/fake_msr.h"
#include "src/prof/testing/pmu_fixtures.h"

namespace prof {
namespace {

using arch::testing::FakeCpuid;
using arch::testing::FakeMsr;
using arch::testing::FakeMsrBank;
using W = FakeMsrBank::Access;
using X2Lapic = arch::Lapic<arch::X2apicMsr<FakeMsr>>;

using prof::testing::pmu_of;
using prof::testing::rd;
using prof::testing::wr;

constexpr uint32_t kLvtMsr = 0x834;           // [sdm3] table 10-6
constexpr uint64_t kLvtNmi = 0x400;           // NMI delivery, unmasked
constexpr uint64_t kLvtNmiMasked = 0x1'0400;  // the same, masked

const char* kSkylake = "testdata/cpuid/intel-core-i7-6700k.cpuid.txt";
const char* kRyzen = "testdata/cpuid/amd-ryzen-7-1700.cpuid.txt";
const char* kQemu = "testdata/boot/m128M-smp2-qemu64.cpuid.txt";

// The reload a generator in state `g` gives next for [lo, hi], 48-bit.
uint64_t next_reload(XorShift64& g, uint64_t lo, uint64_t hi) {
  return reload_value(lo + g.next() % (hi - lo + 1), 48);
}

TEST(PmuSampling, EventAvailabilityAndReasons) {
  const PmuInfo sky = pmu_of(kSkylake);
  for (Event e : {Event::kCycles, Event::kInstructions, Event::kBranchMisses, Event::kLlcMisses})
    EXPECT_EQ(pmu_event_unavailable(sky, e), nullptr);
  const PmuInfo zen = pmu_of(kRyzen);
  EXPECT_EQ(pmu_event_unavailable(zen, Event::kCycles), nullptr);
  EXPECT_STREQ(pmu_event_unavailable(zen, Event::kLlcMisses),
               "AMD core counters do not count last-level cache misses (the L3 counters do)");
  PmuInfo no_llc = sky;
  no_llc.unavailable_arch_events |= 1u << 4;  // EBX bit 4: LLC misses
  EXPECT_STREQ(pmu_event_unavailable(no_llc, Event::kLlcMisses),
               "CPUID.0AH:EBX reports the architectural event unavailable");
  // QEMU TCG: the reason discovery gave, which `prof start` prints.
  const PmuInfo qemu = pmu_of(kQemu);
  ASSERT_EQ(qemu.kind, PmuKind::kNone);
  EXPECT_EQ(std::string(pmu_event_unavailable(qemu, Event::kCycles)),
            "an AMD CPU under a hypervisor (CPUID.01H:ECX[31]) without core counters (CPUID.80000001H:ECX[23] "
            "clear)");
  EXPECT_STREQ(pmu_event_unavailable(PmuInfo{}, Event::kCycles), "no PMU was found");
}

TEST(PmuSampling, SampleEventMapping) {
  EXPECT_EQ(pmu_event(SampleEvent::kCycles), Event::kCycles);
  EXPECT_EQ(pmu_event(SampleEvent::kBranchMisses), Event::kBranchMisses);
  EXPECT_EQ(sample_event(Event::kInstructions), SampleEvent::kInstructions);
  for (int i = 0; i < kEventCount; ++i) {
    const Event e = static_cast<Event>(i);
    EXPECT_TRUE(is_pmu_event(sample_event(e)));
    EXPECT_EQ(pmu_event(sample_event(e)), e);
  }
}

TEST(PmuSampling, AssumedRates) {
  EXPECT_EQ(assumed_event_rate(Event::kCycles, 3'000'000'000), 3'000'000'000u);
  EXPECT_EQ(assumed_event_rate(Event::kInstructions, 3'000'000'000), 3'000'000'000u);
  EXPECT_EQ(assumed_event_rate(Event::kBranchMisses, 3'000'000'000), 6'000'000u);
  EXPECT_EQ(assumed_event_rate(Event::kLlcMisses, 3'000'000'000), 300'000u);
  EXPECT_EQ(assumed_event_rate(Event::kCycles, 0), 0u);
}

TEST(PmuSampling, PeriodRangeFromRate) {
  const uint64_t intel_max = max_reload(pmu_of(kSkylake));
  ASSERT_EQ(intel_max, 0x7fff'ffffu);
  // 3 GHz at 1 kHz: 3 M cycles a sample, drawn from +-50%.
  EXPECT_EQ(sample_period_range(3'000'000'000, 1000, intel_max).value(), (PeriodRange{1'500'000, 4'500'000}));
  EXPECT_EQ(sample_period_range(3'000'000'000, 10'000, intel_max).value(), (PeriodRange{150'000, 450'000}));
  EXPECT_EQ(sample_period_range(301, 100, intel_max).value(), (PeriodRange{2, 4}));  // mean 3, spread 1
  EXPECT_EQ(sample_period_range(1000, 1000, intel_max).value(), (PeriodRange{1, 1}));
  // Too long for a 31-bit reload (3 GHz at 1 Hz): the mean moves down so
  // the top fits, still spread.
  const PeriodRange r = sample_period_range(3'000'000'000, 1, intel_max).value();
  EXPECT_LE(r.max, intel_max);
  EXPECT_EQ(r.min * 3, r.max);  // [mean/2, 3 mean/2]
  EXPECT_EQ(sample_period_range(~uint64_t{0}, 1, intel_max).value(),
            r);  // no wrap
  // AMD's 47-bit reloads take it as asked.
  EXPECT_EQ(sample_period_range(3'000'000'000, 1, max_reload(pmu_of(kRyzen))).value(),
            (PeriodRange{1'500'000'000, 4'500'000'000}));

  EXPECT_EQ(sample_period_range(3'000'000'000, 0, intel_max).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(sample_period_range(999, 1000, intel_max).error(),
            base::Error::kInvalidArgument);  // < 1 a sample
  EXPECT_EQ(sample_period_range(0, 1000, intel_max).error(),
            base::Error::kInvalidArgument);  // no TSC rate
  EXPECT_EQ(sample_period_range(3'000'000'000, 1000, 0).error(),
            base::Error::kUnsupported);  // no PMU
}

TEST(PmuSampling, DrawsAverageToTheMean) {
  const PeriodRange r = sample_period_range(3'000'000'000, 1000, 0x7fff'ffff).value();
  XorShift64 g(0x1234'5678, 3);
  uint64_t sum = 0, lo = ~uint64_t{0}, hi = 0;
  constexpr int kDraws = 100'000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t v = random_in(g, r.min, r.max);
    sum += v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  const double mean = static_cast<double>(sum) / kDraws;
  EXPECT_NEAR(mean, 3'000'000.0, 30'000.0);  // within 1%
  EXPECT_GE(lo, r.min);
  EXPECT_LE(hi, r.max);
  EXPECT_LT(lo, 1'550'000u);  // the whole range is used
  EXPECT_GT(hi, 4'450'000u);
}

TEST(PmuSampling, GeneratorsDifferByCpuAndNeverStick) {
  XorShift64 a(1000, 0), b(1000, 1);
  EXPECT_NE(a.next(), b.next());
  // The seed that would be zero (a fixed point of xorshift) is replaced.
  XorShift64 z(0x9e37'79b9'7f4a'7c15, 0);
  const uint64_t first = z.next();
  EXPECT_NE(first, 0u);
  EXPECT_NE(z.next(), first);
}

// Intel v4 (Skylake): arm with the LVT masked, a PMI acknowledged and
// re-armed and the LVT unmasked, an NMI that is no PMI left alone, disarm.
TEST(PmuSampling, IntelArmPmiRearmDisarm) {
  const PmuInfo pmu = pmu_of(kSkylake);
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  CpuPmuSampler<FakeMsr> s;
  s.init(pmu, FakeMsr{&bank}, XorShift64(77, 1));
  XorShift64 ref(77, 1);  // the draws the sampler will make
  const SampleConfig cfg{Event::kCycles, CountMode::kBoth, 1'500'000, 4'500'000};

  ASSERT_TRUE(s.arm(lapic, cfg).ok());
  EXPECT_TRUE(s.armed());
  constexpr uint64_t kCyclesBoth = 0x0053'003c;  // 3CH, USR|OS, INT, EN
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(kLvtMsr, kLvtNmiMasked),  // no PMI while half armed
                            wr(0x186, 0), wr(0x0c1, next_reload(ref, 1'500'000, 4'500'000)), wr(0x186, kCyclesBoth),
                            rd(0x1d9, 0), wr(0x1d9, 0x1000),       // freeze on PMI
                            wr(0x38f, 0b1), wr(kLvtMsr, kLvtNmi),  // armed: PMIs as NMIs
                        }));

  // The PMI: counter 0 overflowed and froze (v4 CTR_FRZ).
  bank.clear_log();
  bank.set(kIa32PerfGlobalStatus, 1 | kGlobalCtrFrz);
  bank.set(kLvtMsr, kLvtNmiMasked);  // the delivery masked the LVT
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{1}));
  EXPECT_EQ(bank.log(),
            (std::vector<W>{
                rd(0x38e, 1 | kGlobalCtrFrz), wr(0x0c1, next_reload(ref, 1'500'000, 4'500'000)),  // a new random reload
                wr(0x390, 1 | kGlobalCtrFrz),          // acknowledge, unfreeze
                wr(0x38f, 0b1), wr(kLvtMsr, kLvtNmi),  // unmasked for the next one
            }));

  // A periodic tick or `bt` NMI with no overflow: one status read, no
  // write, and the caller's other NMI work goes on.
  bank.clear_log();
  bank.set(kIa32PerfGlobalStatus, 0);
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{0}));
  EXPECT_EQ(bank.log(), (std::vector<W>{rd(0x38e, 0)}));

  // A second PMI re-arms again.
  bank.clear_log();
  bank.set(kIa32PerfGlobalStatus, 1);
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{1}));
  EXPECT_EQ(bank.writes(), (std::vector<W>{wr(0x0c1, next_reload(ref, 1'500'000, 4'500'000)), wr(0x390, 1),
                                           wr(0x38f, 0b1), wr(kLvtMsr, kLvtNmi)}));

  // The acknowledge cleared the status (the fake bank does not model that).
  bank.set(kIa32PerfGlobalStatus, 0);
  bank.clear_log();
  s.disarm(lapic);
  EXPECT_FALSE(s.armed());
  EXPECT_EQ(bank.log(), (std::vector<W>{wr(kLvtMsr, kLvtNmiMasked), wr(0x38f, 0), wr(0x186, 0),
                                        rd(0x38e, 0)}));  // no stale overflow to clear
  // Disarmed: NMIs touch nothing, a second disarm neither.
  bank.clear_log();
  bank.set(kIa32PerfGlobalStatus, 1);
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{0}));
  s.disarm(lapic);
  EXPECT_TRUE(bank.log().empty());
  EXPECT_TRUE(bank.unknown().empty());
}

// AMD core counters (Zen): no freeze, overflow found by the top bit.
TEST(PmuSampling, AmdArmPmiRearm) {
  const PmuInfo pmu = pmu_of(kRyzen);
  ASSERT_EQ(pmu.kind, PmuKind::kAmdCore);
  FakeMsrBank bank;
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  CpuPmuSampler<FakeMsr> s;
  s.init(pmu, FakeMsr{&bank}, XorShift64(5, 0));
  XorShift64 ref(5, 0);
  ASSERT_TRUE(s.arm(lapic, {Event::kInstructions, CountMode::kBoth, 1000, 3000}).ok());
  constexpr uint64_t kAmdInstructionsBoth = 0x0053'00c0;
  EXPECT_EQ(bank.writes(), (std::vector<W>{
                               wr(kLvtMsr, kLvtNmiMasked),
                               wr(0xc001'0200, 0),
                               wr(0xc001'0201, next_reload(ref, 1000, 3000)),
                               wr(0xc001'0200, kAmdInstructionsBoth),
                               wr(kLvtMsr, kLvtNmi),
                           }));
  bank.clear_log();
  bank.set(0xc001'0201, 12);  // wrapped past zero: the top bit is clear
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{1}));
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(0xc001'0200,
                               kAmdInstructionsBoth & ~kEvtselEn),  // stopped while handled
                            rd(0xc001'0201, 12),
                            wr(0xc001'0201, next_reload(ref, 1000, 3000)),
                            wr(0xc001'0200, kAmdInstructionsBoth),
                            wr(kLvtMsr, kLvtNmi),
                        }));
  // Still counting (top bit set): not our PMI, the LVT is left alone.
  bank.clear_log();
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{0}));
  for (const W& w : bank.writes()) EXPECT_NE(w.msr, kLvtMsr);
}

// Re-arming an armed CPU disarms first; a refused event leaves nothing
// armed and the LVT masked.
TEST(PmuSampling, RearmAndRefusals) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  CpuPmuSampler<FakeMsr> s;
  s.init(pmu_of(kSkylake), FakeMsr{&bank}, XorShift64(1, 0));
  ASSERT_TRUE(s.arm(lapic, {Event::kCycles, CountMode::kBoth, 10, 10}).ok());
  bank.clear_log();
  ASSERT_TRUE(s.arm(lapic, {Event::kInstructions, CountMode::kBoth, 10, 10}).ok());
  const std::vector<W> w = bank.writes();
  ASSERT_GE(w.size(), 4u);
  EXPECT_EQ(w[0], wr(kLvtMsr, kLvtNmiMasked));  // masked before the old counter stops
  EXPECT_EQ(w[1], wr(0x38f, 0));
  EXPECT_EQ(w[2], wr(0x186, 0));
  EXPECT_EQ(w.back(), wr(kLvtMsr, kLvtNmi));

  // AMD has no LLC event on its core counters.
  FakeMsrBank amd_bank;
  X2Lapic amd_lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&amd_bank}});
  CpuPmuSampler<FakeMsr> amd;
  amd.init(pmu_of(kRyzen), FakeMsr{&amd_bank}, XorShift64(1, 0));
  EXPECT_EQ(amd.arm(amd_lapic, {Event::kLlcMisses, CountMode::kBoth, 10, 10}).error(), base::Error::kUnsupported);
  EXPECT_FALSE(amd.armed());
  EXPECT_EQ(amd_bank.writes(), (std::vector<W>{wr(kLvtMsr, kLvtNmiMasked)}));

  // QEMU TCG: no PMU, no counter MSR touched (they would #GP).
  FakeMsrBank q_bank;
  X2Lapic q_lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&q_bank}});
  CpuPmuSampler<FakeMsr> q;
  q.init(pmu_of(kQemu), FakeMsr{&q_bank}, XorShift64(1, 0));
  EXPECT_EQ(q.arm(q_lapic, {Event::kCycles, CountMode::kBoth, 10, 10}).error(), base::Error::kUnsupported);
  EXPECT_FALSE(q.armed());
  EXPECT_EQ(q_bank.writes(), (std::vector<W>{wr(kLvtMsr, kLvtNmiMasked)}));
  q_bank.clear_log();
  EXPECT_EQ(q.on_nmi(q_lapic), (OverflowSet{0}));
  EXPECT_TRUE(q_bank.log().empty());
}

// CPU hotplug (sched's presence hook asks the CPU's own NMI handler): an
// armed CPU going offline is disarmed by its NMI handler before it parks,
// so a PMI that was pending finds nothing armed and touches nothing; back
// online, it is armed for the running profile with a fresh generator --
// every MSR write in order, as a start would make them.
TEST(PmuSampling, HotplugDisarmsGoingOfflineAndRearmsComingBack) {
  const PmuInfo pmu = pmu_of(kSkylake);
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  CpuPmuSampler<FakeMsr> s;
  s.init(pmu, FakeMsr{&bank}, XorShift64(9, 2));
  const SampleConfig cfg{Event::kCycles, CountMode::kBoth, 1'000, 3'000};
  ASSERT_TRUE(s.arm(lapic, cfg).ok());

  // No request posted: an NMI's answer step touches nothing.
  bank.clear_log();
  EXPECT_FALSE(s.answer(lapic));
  EXPECT_TRUE(bank.log().empty());

  // Going offline: the disarm request, answered by the CPU's NMI handler.
  s.post(PmuRequest::kDisarm, {});
  EXPECT_FALSE(s.answered());
  bank.set(kIa32PerfGlobalStatus, 0);
  EXPECT_TRUE(s.answer(lapic));
  EXPECT_TRUE(s.answered());
  EXPECT_TRUE(s.answer_status().ok());
  EXPECT_FALSE(s.armed());
  EXPECT_EQ(bank.log(), (std::vector<W>{wr(kLvtMsr, kLvtNmiMasked), wr(0x38f, 0), wr(0x186, 0), rd(0x38e, 0)}));
  // Answered once: a second NMI finds no request; a PMI that was pending
  // as the CPU parked finds nothing armed.
  bank.clear_log();
  EXPECT_FALSE(s.answer(lapic));
  bank.set(kIa32PerfGlobalStatus, 1);
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{0}));
  EXPECT_TRUE(bank.log().empty());
  bank.set(kIa32PerfGlobalStatus, 0);

  // Coming back while the profile runs: init (new generator) and arm.
  s.init(pmu, FakeMsr{&bank}, XorShift64(31, 2));
  XorShift64 ref(31, 2);
  s.post(PmuRequest::kArm, cfg);
  EXPECT_TRUE(bank.log().empty());  // posting writes no MSR: only the CPU itself does
  EXPECT_TRUE(s.answer(lapic));
  EXPECT_TRUE(s.answered());
  EXPECT_TRUE(s.answer_status().ok());
  EXPECT_TRUE(s.armed());
  constexpr uint64_t kCyclesBoth = 0x0053'003c;
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(kLvtMsr, kLvtNmiMasked),
                            wr(0x186, 0),
                            wr(0x0c1, next_reload(ref, 1'000, 3'000)),
                            wr(0x186, kCyclesBoth),
                            rd(0x1d9, 0x1000),
                            wr(0x1d9, 0x1000),  // the freeze bit, still set from before
                            wr(0x38f, 0b1),
                            wr(kLvtMsr, kLvtNmi),
                        }));
  // And its PMIs are answered again.
  bank.clear_log();
  bank.set(kIa32PerfGlobalStatus, 1);
  EXPECT_EQ(s.on_nmi(lapic), (OverflowSet{1}));
  EXPECT_EQ(bank.writes(), (std::vector<W>{wr(0x0c1, next_reload(ref, 1'000, 3'000)), wr(0x390, 1), wr(0x38f, 0b1),
                                           wr(kLvtMsr, kLvtNmi)}));
  EXPECT_TRUE(bank.unknown().empty());
}

// A refused arm request (QEMU TCG: no PMU) is answered with the error and
// leaves the LVT masked; a withdrawn request is never carried out.
TEST(PmuSampling, HotplugArmRefusedAndWithdrawn) {
  FakeMsrBank bank;
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  CpuPmuSampler<FakeMsr> q;
  q.init(pmu_of(kQemu), FakeMsr{&bank}, XorShift64(1, 3));
  q.post(PmuRequest::kArm, {Event::kCycles, CountMode::kBoth, 10, 10});
  EXPECT_TRUE(q.answer(lapic));
  EXPECT_TRUE(q.answered());
  EXPECT_EQ(q.answer_status().error(), base::Error::kUnsupported);
  EXPECT_FALSE(q.armed());
  EXPECT_EQ(bank.writes(), (std::vector<W>{wr(kLvtMsr, kLvtNmiMasked)}));

  bank.clear_log();
  q.post(PmuRequest::kArm, {Event::kCycles, CountMode::kBoth, 10, 10});
  EXPECT_TRUE(q.withdraw());
  EXPECT_FALSE(q.withdraw());  // nothing left to take back
  EXPECT_FALSE(q.answer(lapic));
  EXPECT_FALSE(q.answered());
  EXPECT_TRUE(bank.log().empty());
}

// Skylake's LBR records: FROM 680H.., TO 6C0H.., LBR_INFO DC0H.. ([sdm4]).
bool is_lbr_record_msr(uint32_t msr) { return (msr >= 0x680 && msr < 0x6e0) || (msr >= 0xdc0 && msr < 0xde0); }

// With the LBR on (Skylake: 32 model-specific records, format 5,
// mispredict in LBR_INFO, perfmon v4's streamlined freeze): arm enables it
// after the counter, kernel branches only and frozen at each PMI; a PMI
// reads the frozen stack before the acknowledgement (which clears LBR_FRZ)
// and unfreezes after it; an NMI that is no PMI records no branch; disarm
// disables it.
TEST(PmuSampling, LbrReadFrozenAtEachPmi) {
  const PmuInfo pmu = pmu_of(kSkylake);
  const LbrInfo lbr = prof::testing::lbr_of(kSkylake, prof::testing::kSkylakePerfCapabilities);
  ASSERT_EQ(lbr.kind, LbrKind::kModelSpecific);
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  CpuPmuSampler<FakeMsr> s;
  s.init(pmu, FakeMsr{&bank}, XorShift64(3, 0), &lbr);
  EXPECT_TRUE(s.lbr_on());
  ASSERT_TRUE(s.arm(lapic, {Event::kCycles, CountMode::kBoth, 100, 100}).ok());
  const std::vector<W> w = bank.writes();
  ASSERT_GE(w.size(), 4u);
  // The filter, then DEBUGCTL.LBR with FREEZE_LBRS_ON_PMI beside the
  // counters' freeze; the LVT is unmasked last.
  EXPECT_EQ(w[w.size() - 3], wr(kMsrLbrSelect, kLbrSelectKernelOnly));
  EXPECT_EQ(w[w.size() - 2], wr(kIa32Debugctl, 0x1000 | kDebugctlLbr | kDebugctlFreezeLbrsOnPmi));
  EXPECT_EQ(w.back(), wr(kLvtMsr, kLvtNmi));

  // A frozen stack: TOS 5, record i from 0xffffffff8010_0000+i to
  // 0xffffffff8020_0000+i, every fourth mispredicted.
  constexpr uint64_t kBit63 = uint64_t{1} << 63;
  for (uint32_t i = 0; i < 32; ++i) {
    bank.set(0x680 + i, 0xffff'ffff'8010'0000 + i);
    bank.set(0x6c0 + i, 0xffff'ffff'8020'0000 + i);
    bank.set(0xdc0 + i, i % 4 == 0 ? kBit63 : 0);
  }
  bank.set(kMsrLastbranchTos, 5);
  bank.set(kIa32PerfGlobalStatus, 1 | kGlobalLbrFrz | kGlobalCtrFrz);
  bank.clear_log();
  SampleBranch br[kMaxSampleBranches];
  size_t n = 99;
  EXPECT_EQ(s.on_nmi(lapic, br, kMaxSampleBranches, &n), (OverflowSet{1}));
  ASSERT_EQ(n, 32u);
  for (size_t k = 0; k < 32; ++k) {
    const uint32_t rec = (5 - static_cast<uint32_t>(k)) & 31;  // newest (TOS) first
    EXPECT_EQ(br[k], (SampleBranch{0xffff'ffff'8010'0000 + rec, 0xffff'ffff'8020'0000 + rec, rec % 4 == 0})) << k;
  }
  const std::vector<W> log = bank.log();
  size_t last_lbr_read = 0, ack = 0, unfreeze = 0;
  for (size_t k = 0; k < log.size(); ++k) {
    if (!log[k].write && is_lbr_record_msr(log[k].msr)) last_lbr_read = k;
    if (log[k] == wr(0x390, 1 | kGlobalLbrFrz | kGlobalCtrFrz)) ack = k;
    if (log[k] == wr(0x390, kGlobalLbrFrz)) unfreeze = k;
  }
  EXPECT_EQ(log[0], rd(kMsrLastbranchTos, 5));  // the stack before anything else
  EXPECT_LT(last_lbr_read, ack);                // all of it before the acknowledgement
  EXPECT_LT(ack, unfreeze);                     // and recording resumes after it
  EXPECT_EQ(log.back(), wr(kLvtMsr, kLvtNmi));

  // No overflow: the read is thrown away and nothing is unfrozen.
  bank.set(kIa32PerfGlobalStatus, 0);
  bank.clear_log();
  EXPECT_EQ(s.on_nmi(lapic, br, kMaxSampleBranches, &n), (OverflowSet{0}));
  EXPECT_EQ(n, 0u);
  for (const W& a : bank.writes()) EXPECT_NE(a.msr, 0x390u);

  // A smaller buffer takes the newest records only.
  bank.set(kIa32PerfGlobalStatus, 1);
  EXPECT_EQ(s.on_nmi(lapic, br, 3, &n), (OverflowSet{1}));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(br[0].from, 0xffff'ffff'8010'0005u);

  // Disarm (a CPU going offline too): the counter, then the LBR.
  bank.set(kIa32PerfGlobalStatus, 0);
  bank.clear_log();
  s.disarm(lapic);
  const std::vector<W> d = bank.writes();
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.front(), wr(kLvtMsr, kLvtNmiMasked));
  EXPECT_EQ(d.back(), wr(kIa32Debugctl, 0x1000));  // LBR and its freeze off, the counters' freeze kept
  EXPECT_TRUE(bank.unknown().empty());
}

// Without the LBR, on_nmi's branch output says none, and the LBR MSRs are
// never touched.
TEST(PmuSampling, NoLbrNoBranches) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  CpuPmuSampler<FakeMsr> s;
  s.init(pmu_of(kSkylake), FakeMsr{&bank}, XorShift64(3, 0));
  EXPECT_FALSE(s.lbr_on());
  ASSERT_TRUE(s.arm(lapic, {Event::kCycles, CountMode::kBoth, 100, 100}).ok());
  bank.set(kIa32PerfGlobalStatus, 1);
  SampleBranch br[kMaxSampleBranches];
  size_t n = 99;
  EXPECT_EQ(s.on_nmi(lapic, br, kMaxSampleBranches, &n), (OverflowSet{1}));
  EXPECT_EQ(n, 0u);
  for (const W& a : bank.log())
    EXPECT_FALSE(is_lbr_record_msr(a.msr) || a.msr == kMsrLastbranchTos) << std::hex << a.msr;
}

}  // namespace
}  // namespace prof
