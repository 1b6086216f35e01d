// Counter programming and the PMI handler on the fake MSR bank, PMUs decoded
// from real CPUID captures: every MSR write in order for Intel v4/v2 (freeze),
// Intel v1 and AMD (stop and restart), and no PMU (QEMU: no MSR touched).
#include "src/prof/pmc.h"

#include <gtest/gtest.h>

#include <set>
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

using prof::testing::pmu_of;
using prof::testing::rd;
using prof::testing::wr;

// Returns the scripted values in order (then zeros).
struct ScriptedRng {
  std::vector<uint64_t> values;
  size_t i = 0;
  uint64_t next() { return i < values.size() ? values[i++] : 0; }
};

// xorshift64: a real-looking sequence for the distribution tests.
struct XorShift {
  uint64_t s = 0x9e37'79b9'7f4a'7c15;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

FakeCpuid load(const std::string& path) { return prof::testing::load_cpuid(path); }

constexpr uint64_t kCyclesKernel = 0x0052'003c;         // 3CH, OS, INT, EN
constexpr uint64_t kInstructionsBoth = 0x0053'00c0;     // C0H, USR|OS, INT, EN
constexpr uint64_t kAmdCyclesKernel = 0x0052'0076;      // PMCx076, OS, INT, EN
constexpr uint64_t kAmdBranchMissesUser = 0x0051'00c3;  // PMCx0C3, USR, INT, EN

TEST(Pmc, IntelV4StartPmiStop) {
  PmuInfo pmu = pmu_of("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  ASSERT_EQ(pmu.version, 4);
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{500, 0, 7}};

  ASSERT_TRUE(pmc.start(0, {Event::kCycles, CountMode::kKernel, 1000, 2000}, rng).ok());
  ASSERT_TRUE(pmc.start(2, {Event::kInstructions, CountMode::kBoth, 1000, 2000}, rng).ok());
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(0x186, 0),                            // IA32_PERFEVTSEL0 off
                            wr(0x0c1, 0xffff'ffff'ffff - 1500 + 1),  // IA32_PMC0 = -1500 (48 bits)
                            wr(0x186, kCyclesKernel),
                            rd(0x1d9, 0),
                            wr(0x1d9, 0x1000),  // IA32_DEBUGCTL.FREEZE_PERFMON_ON_PMI
                            wr(0x38f, 0b1),     // IA32_PERF_GLOBAL_CTRL
                            wr(0x188, 0),       // IA32_PERFEVTSEL2
                            wr(0x0c3, 0xffff'ffff'ffff - 1000 + 1),
                            wr(0x188, kInstructionsBoth),
                            rd(0x1d9, 0x1000),
                            wr(0x1d9, 0x1000),
                            wr(0x38f, 0b101),
                        }));
  EXPECT_TRUE(bank.unknown().empty());

  // Counter 2 overflowed and the v4 freeze set CTR_FRZ: re-arm counter 2
  // only, acknowledge both bits through IA32_PERF_GLOBAL_STATUS_RESET, and
  // enable globally again.
  bank.clear_log();
  bank.set(kIa32PerfGlobalStatus, (1u << 2) | kGlobalCtrFrz);
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{0b100}));
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            rd(0x38e, (1u << 2) | kGlobalCtrFrz),
                            wr(0x0c3, 0xffff'ffff'ffff - 1007 + 1),
                            wr(0x390, (1u << 2) | kGlobalCtrFrz),
                            wr(0x38f, 0b101),
                        }));

  // The kernel then unmasks the performance LVT (x2APIC MSR 834H).
  arch::X2apicMsr<FakeMsr> lapic{FakeMsr{&bank}};
  lapic.write(arch::kLapicLvtPerfMon, arch::lvt_perfmon_nmi());
  EXPECT_EQ(bank.writes().back(), wr(0x834, 0x400));

  // The acknowledge cleared the status (the fake bank does not model that).
  bank.set(kIa32PerfGlobalStatus, 0);
  bank.clear_log();
  ASSERT_TRUE(pmc.stop_all().ok());
  EXPECT_EQ(bank.writes(), (std::vector<W>{wr(0x38f, 0), wr(0x186, 0), wr(0x188, 0)}));
  EXPECT_EQ(pmc.armed_mask(), 0u);
}

TEST(Pmc, IntelStopClearsAnOverflowLeftInTheStatus) {
  PmuInfo pmu = pmu_of("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{0}};
  ASSERT_TRUE(pmc.start(0, {Event::kCycles, CountMode::kKernel, 100, 100}, rng).ok());
  // Counter 0 overflowed (and the v4 freeze bit is up) just before the
  // stop; counter 1's bit is not ours and stays.
  bank.set(kIa32PerfGlobalStatus, 0b11 | kGlobalCtrFrz);
  bank.clear_log();
  ASSERT_TRUE(pmc.stop_all().ok());
  EXPECT_EQ(bank.writes(), (std::vector<W>{wr(0x38f, 0), wr(0x186, 0), wr(0x390, 0b1 | kGlobalCtrFrz)}));
}

TEST(Pmc, IntelPmiNotOursWritesNothing) {
  PmuInfo pmu = pmu_of("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{0}};
  ASSERT_TRUE(pmc.start(0, {Event::kCycles, CountMode::kKernel, 100, 100}, rng).ok());
  bank.clear_log();
  // Only counter 1, which we did not arm, reports overflow (someone else's).
  bank.set(kIa32PerfGlobalStatus, 1u << 1);
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{0}));
  EXPECT_TRUE(bank.writes().empty());
}

TEST(Pmc, IntelV2KeepsOtherDebugctlBitsAndMasksTo40Bits) {
  // Core 2: v2, two 40-bit counters; the freeze clears IA32_PERF_GLOBAL_CTRL.
  PmuInfo pmu = pmu_of("testdata/cpuid/intel-core2-6300.cpuid.txt");
  ASSERT_EQ(pmu.version, 2);
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0x1);  // LBR on: must stay on
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{0, 0}};
  ASSERT_TRUE(pmc.start(1, {Event::kLlcMisses, CountMode::kUser, 0x1000, 0x1000}, rng).ok());
  EXPECT_EQ(bank.writes(), (std::vector<W>{
                               wr(0x187, 0),
                               wr(0x0c2, 0xff'ffff'f000),  // -0x1000 in 40 bits
                               wr(0x187, 0x0051'412e),     // 2EH/41H, USR, INT, EN
                               wr(0x1d9, 0x1001),
                               wr(0x38f, 0b10),
                           }));
  EXPECT_EQ(pmc.start(2, {Event::kCycles, CountMode::kKernel, 1, 1}, rng).error(), base::Error::kOutOfRange);

  bank.clear_log();
  bank.set(kIa32PerfGlobalStatus, 1u << 1);
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{0b10}));
  EXPECT_EQ(bank.writes(), (std::vector<W>{wr(0x0c2, 0xff'ffff'f000), wr(0x390, 0b10), wr(0x38f, 0b10)}));
}

TEST(Pmc, IntelV1StopsAndRestarts) {
  // Core 2's capture with leaf 0xA reporting version 1: no global MSRs and
  // no freeze bit.
  FakeCpuid cpu = load("testdata/cpuid/intel-core2-6300.cpuid.txt");
  arch::CpuidRegs a = cpu.get(0xa, 0);
  a.eax = (a.eax & ~0xffu) | 1;
  cpu.set(0xa, 0, a);
  PmuInfo pmu = discover_pmu(cpu);
  ASSERT_EQ(pmu.version, 1);
  ASSERT_FALSE(pmu.freeze_on_pmi);

  FakeMsrBank bank;
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{0, 0, 0}};
  ASSERT_TRUE(pmc.start(0, {Event::kCycles, CountMode::kKernel, 0x100, 0x100}, rng).ok());
  ASSERT_TRUE(pmc.start(1, {Event::kInstructions, CountMode::kBoth, 0x200, 0x200}, rng).ok());
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(0x186, 0),
                            wr(0x0c1, 0xff'ffff'ff00),
                            wr(0x186, kCyclesKernel),
                            wr(0x187, 0),
                            wr(0x0c2, 0xff'ffff'fe00),
                            wr(0x187, kInstructionsBoth),
                        }));

  // Counter 0 wrapped past zero (top bit clear); counter 1 is still counting up.
  bank.clear_log();
  bank.set(kIa32Pmc0, 0x3);
  bank.set(kIa32Pmc0 + 1, 0xff'ffff'ff00);
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{0b01}));
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(0x186, kCyclesKernel & ~kEvtselEn),
                            wr(0x187, kInstructionsBoth & ~kEvtselEn),
                            rd(0x0c1, 0x3),
                            rd(0x0c2, 0xff'ffff'ff00),
                            wr(0x0c1, 0xff'ffff'ff00),
                            wr(0x186, kCyclesKernel),
                            wr(0x187, kInstructionsBoth),
                        }));
}

TEST(Pmc, AmdCoreCountersStopAndRestart) {
  PmuInfo pmu = pmu_of("testdata/cpuid/amd-ryzen-7-1700.cpuid.txt");
  ASSERT_EQ(pmu.kind, PmuKind::kAmdCore);
  FakeMsrBank bank;
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{3, 0, 9}};
  ASSERT_TRUE(pmc.start(1, {Event::kCycles, CountMode::kKernel, 100, 200}, rng).ok());
  ASSERT_TRUE(pmc.start(5, {Event::kBranchMisses, CountMode::kUser, 50, 50}, rng).ok());
  EXPECT_EQ(pmc.start(6, {Event::kCycles, CountMode::kKernel, 1, 1}, rng).error(), base::Error::kOutOfRange);
  EXPECT_EQ(pmc.start(0, {Event::kLlcMisses, CountMode::kKernel, 1, 1}, rng).error(), base::Error::kUnsupported);
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(0xc001'0202, 0),                           // PERF_CTL1
                            wr(0xc001'0203, 0xffff'ffff'ffff - 103 + 1),  // PERF_CTR1 = -103
                            wr(0xc001'0202, kAmdCyclesKernel),
                            wr(0xc001'020a, 0),  // PERF_CTL5
                            wr(0xc001'020b, 0xffff'ffff'ffff - 50 + 1),
                            wr(0xc001'020a, kAmdBranchMissesUser),
                        }));

  // Counter 5 overflowed (wrapped to 2), counter 1 did not.
  bank.clear_log();
  bank.set(0xc001'020b, 2);
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{1u << 5}));
  EXPECT_EQ(bank.log(), (std::vector<W>{
                            wr(0xc001'0202, kAmdCyclesKernel & ~kEvtselEn),
                            wr(0xc001'020a, kAmdBranchMissesUser & ~kEvtselEn),
                            rd(0xc001'0203, 0xffff'ffff'ffff - 103 + 1),
                            rd(0xc001'020b, 2),
                            wr(0xc001'020b, 0xffff'ffff'ffff - 50 + 1),
                            wr(0xc001'0202, kAmdCyclesKernel),
                            wr(0xc001'020a, kAmdBranchMissesUser),
                        }));

  bank.clear_log();
  ASSERT_TRUE(pmc.stop_all().ok());
  EXPECT_EQ(bank.writes(), (std::vector<W>{wr(0xc001'0202, 0), wr(0xc001'020a, 0)}));
}

TEST(Pmc, AmdLegacyK7Msrs) {
  FakeCpuid cpu = load("testdata/cpuid/amd-ryzen-9-3950x-virtualbox-hyperv.cpuid.txt");
  arch::CpuidRegs l1 = cpu.get(1, 0);
  l1.ecx &= ~(1u << 31);  // as on bare metal: see pmu_test
  cpu.set(1, 0, l1);
  PmuInfo pmu = discover_pmu(cpu);
  ASSERT_EQ(pmu.kind, PmuKind::kAmdLegacy);
  FakeMsrBank bank;
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{0, 0}};
  ASSERT_TRUE(pmc.start(3, {Event::kCycles, CountMode::kKernel, 64, 64}, rng).ok());
  EXPECT_EQ(pmc.start(4, {Event::kCycles, CountMode::kKernel, 64, 64}, rng).error(), base::Error::kOutOfRange);
  bank.set(0xc001'0007, 0);  // PerfCtr3 wrapped to exactly zero
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{1u << 3}));
  EXPECT_EQ(bank.writes(), (std::vector<W>{
                               wr(0xc001'0003, 0),  // PerfEvtSel3
                               wr(0xc001'0007, 0xffff'ffff'ffc0),
                               wr(0xc001'0003, kAmdCyclesKernel),
                               wr(0xc001'0003, kAmdCyclesKernel & ~kEvtselEn),
                               wr(0xc001'0007, 0xffff'ffff'ffc0),
                               wr(0xc001'0003, kAmdCyclesKernel),
                           }));
}

TEST(Pmc, NoPmuTouchesNoMsr) {
  PmuInfo pmu = pmu_of("testdata/boot/m512M-smp4-max.cpuid.txt");
  ASSERT_EQ(pmu.kind, PmuKind::kNone);
  FakeMsrBank bank;
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng{{1, 2, 3}};
  for (Event e : {Event::kCycles, Event::kInstructions, Event::kBranchMisses, Event::kLlcMisses})
    EXPECT_EQ(pmc.start(0, {e, CountMode::kKernel, 1, 1}, rng).error(), base::Error::kUnsupported);
  EXPECT_EQ(pmc.stop_all().error(), base::Error::kUnsupported);
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{0}));
  EXPECT_TRUE(bank.log().empty());
  EXPECT_EQ(rng.i, 0u);  // no draw either
}

TEST(Pmc, BadArgumentsTouchNoMsr) {
  PmuInfo pmu = pmu_of("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  FakeMsrBank bank;
  Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
  ScriptedRng rng;
  const uint64_t max = max_reload(pmu);
  EXPECT_EQ(pmc.start(0, {Event::kCycles, CountMode::kKernel, 0, 10}, rng).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(pmc.start(0, {Event::kCycles, CountMode::kKernel, 11, 10}, rng).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(pmc.start(0, {Event::kCycles, CountMode::kKernel, 1, max + 1}, rng).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(pmc.start(4, {Event::kCycles, CountMode::kKernel, 1, 10}, rng).error(), base::Error::kOutOfRange);
  EXPECT_EQ(pmc.on_pmi(rng), (OverflowSet{0}));  // nothing armed
  EXPECT_TRUE(bank.log().empty());
}

TEST(Pmc, ReloadIsRandomWithinRangeAndCounterWidth) {
  struct Case {
    const char* path;
    uint8_t width;
  };
  for (Case c :
       {Case{"testdata/cpuid/intel-core-i7-6700k.cpuid.txt", 48}, Case{"testdata/cpuid/intel-core2-6300.cpuid.txt", 40},
        Case{"testdata/cpuid/amd-ryzen-7-1700.cpuid.txt", 48}}) {
    SCOPED_TRACE(c.path);
    PmuInfo pmu = pmu_of(c.path);
    ASSERT_EQ(pmu.gp_width, c.width);
    FakeMsrBank bank;
    bank.set(kIa32Debugctl, 0);
    const uint32_t ctr = pmu.kind == PmuKind::kAmdCore ? kAmdPerfCtr0Ext : kIa32Pmc0;
    const uint32_t status = kIa32PerfGlobalStatus;
    Pmc<FakeMsr> pmc(pmu, FakeMsr{&bank});
    XorShift rng;
    const uint64_t lo = 10'000, hi = 10'063;
    ASSERT_TRUE(pmc.start(0, {Event::kCycles, CountMode::kKernel, lo, hi}, rng).ok());
    std::set<uint64_t> seen;
    const uint64_t range = uint64_t{1} << c.width;
    for (int i = 0; i < 1000; ++i) {
      bank.set(status, 1);
      bank.set(ctr, 0);  // wrapped (for the freeze-less path)
      ASSERT_EQ(pmc.on_pmi(rng), (OverflowSet{1}));
      const uint64_t v = bank.get(ctr);
      ASSERT_LT(v, range);                     // masked to the counter width
      ASSERT_NE(v & (uint64_t{1} << 31), 0u);  // sign extension from bit 31 gives the same value
      const uint64_t events = range - v;
      ASSERT_GE(events, lo);
      ASSERT_LE(events, hi);
      seen.insert(events);
    }
    EXPECT_EQ(seen.size(), hi - lo + 1);  // every value of the range drawn
  }
}

TEST(Pmc, RandomInBounds) {
  ScriptedRng rng{{0, ~uint64_t{0}, 12345}};
  EXPECT_EQ(random_in(rng, 7, 7), 7u);
  const uint64_t max = (uint64_t{1} << 47) - 1;
  EXPECT_LE(random_in(rng, 1, max), max);
  EXPECT_EQ(random_in(rng, 100, 199), 145u);
}

}  // namespace
}  // namespace prof
