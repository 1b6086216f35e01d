// LBR discovery against real CPUID captures (testdata/cpuid: Skylake, Core 2,
// Zen, a VirtualBox AMD guest; testdata/boot: QEMU TCG) and edited copies of
// them (no PDCM, a hypervisor, unknown models and formats, architectural
// LBR). The captures hold no MSR values: each test sets the
// IA32_PERF_CAPABILITIES value it names, and checks that no other MSR is read.
#include "src/prof/lbr.h"

#include <gtest/gtest.h>

#include <string>

#include "src/arch/testing/fake_cpuid.h"
#include "src/arch/testing/fake_msr.h"

namespace prof {
namespace {

using arch::testing::FakeCpuid;
using arch::testing::FakeMsrBank;
using Access = FakeMsrBank::Access;

// A Skylake-client value: LBR format 5 (bits 5:0), PEBS format 3 and the
// other capability bits above it, which discovery ignores.
constexpr uint64_t kSkylakeCaps = 0x33c5;

FakeCpuid load(const std::string& path) {
  int lines = 0;
  FakeCpuid fake = FakeCpuid::from_testdata(path, &lines);
  EXPECT_GT(lines, 0) << path;
  return fake;
}

std::string describe_str(const LbrInfo& l) {
  char buf[128];
  describe(l, buf, sizeof buf);
  return buf;
}

// Edits one register of a leaf of the fake.
void set_ecx_bit(FakeCpuid& f, uint32_t leaf, int bit, bool on) {
  arch::CpuidRegs r = f.get(leaf, 0);
  r.ecx = on ? r.ecx | (1u << bit) : r.ecx & ~(1u << bit);
  f.set(leaf, 0, r);
}

TEST(LbrDiscovery, SkylakeHas32EntriesWithLbrInfo) {
  FakeCpuid cpuid = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, kSkylakeCaps);
  arch::testing::FakeMsr msr{&bank};
  LbrInfo l = discover_lbr(cpuid, msr);
  EXPECT_EQ(l.kind, LbrKind::kModelSpecific);
  EXPECT_EQ(l.absence, LbrAbsence::kPresent);
  EXPECT_EQ(l.family, 6);
  EXPECT_EQ(l.model, 0x5e);
  EXPECT_EQ(l.depth, 32);
  EXPECT_EQ(l.from_msr, 0x680u);
  EXPECT_EQ(l.to_msr, 0x6c0u);
  EXPECT_EQ(l.info_msr, 0xdc0u);
  EXPECT_EQ(l.select_msr, 0x1c8u);
  EXPECT_TRUE(l.call_stack);
  EXPECT_TRUE(l.freeze_on_pmi);
  EXPECT_TRUE(l.streamlined_freeze);  // perfmon v4
  EXPECT_EQ(l.format.code, 5);
  EXPECT_EQ(l.format.mispredict, MispredictAt::kInfoBit63);
  EXPECT_EQ(describe_str(l), "32 entries, format 5, mispredict in LBR_INFO, call stack");
  // The one MSR read is the one PDCM promises.
  EXPECT_EQ(bank.log(), (std::vector<Access>{{false, kIa32PerfCapabilities, kSkylakeCaps}}));
  EXPECT_TRUE(bank.unknown().empty());
}

TEST(LbrDiscovery, Core2Has4EntriesAtTheCoreMsrs) {
  FakeCpuid cpuid = load("testdata/cpuid/intel-core2-6300.cpuid.txt");
  FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, 0x3);  // format 3 chosen for the test
  arch::testing::FakeMsr msr{&bank};
  LbrInfo l = discover_lbr(cpuid, msr);
  EXPECT_EQ(l.kind, LbrKind::kModelSpecific);
  EXPECT_EQ(l.model, 0x0f);
  EXPECT_EQ(l.depth, 4);
  EXPECT_EQ(l.from_msr, 0x40u);
  EXPECT_EQ(l.to_msr, 0x60u);
  EXPECT_EQ(l.info_msr, 0u);
  EXPECT_EQ(l.select_msr, 0u);  // no LBR_SELECT before Nehalem
  EXPECT_FALSE(l.call_stack);
  EXPECT_TRUE(l.freeze_on_pmi);
  EXPECT_FALSE(l.streamlined_freeze);  // perfmon v2: the PMI clears DEBUGCTL.LBR
  EXPECT_EQ(describe_str(l), "4 entries, format 3, mispredict in FROM[63]");
}

TEST(LbrDiscovery, AmdHasNoneAndNoMsrIsRead) {
  for (const char* path :
       {"testdata/cpuid/amd-ryzen-7-1700.cpuid.txt", "testdata/cpuid/amd-ryzen-9-3950x-virtualbox-hyperv.cpuid.txt",
        "testdata/boot/m512M-smp4-max.cpuid.txt", "testdata/boot/m32M-smp1-qemu64.cpuid.txt"}) {
    SCOPED_TRACE(path);
    FakeMsrBank bank;
    arch::testing::FakeMsr msr{&bank};
    LbrInfo l = discover_lbr(load(path), msr);
    EXPECT_EQ(l.kind, LbrKind::kNone);
    EXPECT_EQ(l.absence, LbrAbsence::kNotIntel);
    EXPECT_EQ(describe_str(l), "none (not an Intel CPU)");
    EXPECT_TRUE(bank.log().empty());
  }
}

TEST(LbrDiscovery, IntelWithoutPdcmReadsNoMsr) {
  // What QEMU's Intel models (-cpu Haswell) report under TCG: PDCM clear.
  FakeCpuid cpuid = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  set_ecx_bit(cpuid, 1, 15, false);
  FakeMsrBank bank;
  arch::testing::FakeMsr msr{&bank};
  LbrInfo l = discover_lbr(cpuid, msr);
  EXPECT_EQ(l.kind, LbrKind::kNone);
  EXPECT_EQ(l.absence, LbrAbsence::kNoPdcm);
  EXPECT_EQ(describe_str(l), "none (no IA32_PERF_CAPABILITIES: CPUID.1:ECX.PDCM clear)");
  EXPECT_TRUE(bank.log().empty());
}

TEST(LbrDiscovery, HypervisorReportingFormat0HasNone) {
  FakeCpuid cpuid = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  set_ecx_bit(cpuid, 1, 31, true);
  FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, 0x33c0);
  arch::testing::FakeMsr msr{&bank};
  LbrInfo l = discover_lbr(cpuid, msr);
  EXPECT_EQ(l.absence, LbrAbsence::kHypervisorNoLbr);
  EXPECT_EQ(describe_str(l), "none (hypervisor reports LBR format 0: no LBR MSRs)");

  // A hypervisor that names a format is trusted; bare metal with format 0
  // has 32-bit records.
  bank.set(kIa32PerfCapabilities, kSkylakeCaps);
  EXPECT_EQ(discover_lbr(cpuid, msr).kind, LbrKind::kModelSpecific);
  set_ecx_bit(cpuid, 1, 31, false);
  bank.set(kIa32PerfCapabilities, 0);
  l = discover_lbr(cpuid, msr);
  EXPECT_EQ(l.kind, LbrKind::kModelSpecific);
  EXPECT_EQ(describe_str(l), "32 entries, format 0, no mispredict bit, call stack");
}

TEST(LbrDiscovery, UnknownModelAndFormat) {
  FakeCpuid cpuid = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, kSkylakeCaps);
  arch::testing::FakeMsr msr{&bank};

  // Family 6 model 0x01 (the Pentium Pro): not in the table.
  arch::CpuidRegs l1 = cpuid.get(1, 0);
  cpuid.set(1, 0, {0x0000'0611, l1.ebx, l1.ecx, l1.edx});
  LbrInfo l = discover_lbr(cpuid, msr);
  EXPECT_EQ(l.absence, LbrAbsence::kUnknownModel);
  EXPECT_EQ(describe_str(l), "none (06_01H: model not in the LBR table)");

  // Family 15 (NetBurst: a different LBR design): DisplayFamily 0F.
  cpuid.set(1, 0, {0x0000'0f29, l1.ebx, l1.ecx, l1.edx});
  EXPECT_EQ(describe_str(discover_lbr(cpuid, msr)), "none (0F_02H: model not in the LBR table)");

  cpuid.set(1, 0, l1);
  bank.set(kIa32PerfCapabilities, 0x3f);
  l = discover_lbr(cpuid, msr);
  EXPECT_EQ(l.absence, LbrAbsence::kUnknownFormat);
  EXPECT_EQ(describe_str(l), "none (unknown LBR record format 63)");
}

// The Skylake capture turned into a CPU with architectural LBR: maximum
// basic leaf 0x1C, CPUID.(7,0):EDX[19], leaf 0x1C EAX depth bits.
FakeCpuid arch_lbr_cpu(uint32_t depth_bits, uint32_t ebx = 0x7, uint32_t ecx = 0x7) {
  FakeCpuid cpuid = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  arch::CpuidRegs l0 = cpuid.get(0, 0);
  cpuid.set(0, 0, {0x1c, l0.ebx, l0.ecx, l0.edx});
  arch::CpuidRegs l7 = cpuid.get(7, 0);
  cpuid.set(7, 0, {l7.eax, l7.ebx, l7.ecx, l7.edx | (1u << 19)});
  cpuid.set(0x1c, 0, {depth_bits, ebx, ecx, 0});
  return cpuid;
}

TEST(LbrDiscovery, ArchitecturalLbrDepthFromLeaf1c) {
  FakeMsrBank bank;
  arch::testing::FakeMsr msr{&bank};
  // Bits 0..3: depths 8, 16, 24 and 32; the deepest counts.
  LbrInfo l = discover_lbr(arch_lbr_cpu(0x4000'000f), msr);
  EXPECT_EQ(l.kind, LbrKind::kArchitectural);
  EXPECT_EQ(l.depth, 32);
  EXPECT_EQ(l.from_msr, 0x1500u);
  EXPECT_EQ(l.to_msr, 0x1600u);
  EXPECT_EQ(l.info_msr, 0x1200u);
  EXPECT_TRUE(l.cpl_filter && l.branch_filter && l.call_stack);
  EXPECT_TRUE(l.freeze_on_pmi && l.streamlined_freeze);  // the capture's perfmon v4
  EXPECT_EQ(describe_str(l), "architectural, 32 entries, mispredict in LBR_INFO, call stack");
  EXPECT_EQ(describe_str(discover_lbr(arch_lbr_cpu(0x3, 0x1, 0x0), msr)),
            "architectural, 16 entries, no mispredict bit");
  EXPECT_EQ(discover_lbr(arch_lbr_cpu(0x1), msr).depth, 8);
  EXPECT_EQ(discover_lbr(arch_lbr_cpu(0x80), msr).depth, 64);
  EXPECT_TRUE(bank.log().empty());  // no IA32_PERF_CAPABILITIES needed

  EXPECT_EQ(discover_lbr(arch_lbr_cpu(0), msr).absence, LbrAbsence::kArchNoDepth);
  // Leaf 0x1C beyond the maximum is not asked for: no depth.
  FakeCpuid capped = arch_lbr_cpu(0xf);
  arch::CpuidRegs l0 = capped.get(0, 0);
  capped.set(0, 0, {0x16, l0.ebx, l0.ecx, l0.edx});
  EXPECT_EQ(discover_lbr(capped, msr).absence, LbrAbsence::kArchNoDepth);
  EXPECT_EQ(capped.queried().count(0x1c), 0u);
}

TEST(LbrDiscovery, ModelTable) {
  struct Row {
    uint8_t model, depth;
    uint32_t from;
    bool select, call_stack;
  };
  for (const Row& r :
       {Row{0x17, 4, 0x40, false, false}, Row{0x1c, 8, 0x40, false, false}, Row{0x37, 8, 0x40, true, false},
        Row{0x57, 8, 0x680, true, false}, Row{0x1a, 16, 0x680, true, false}, Row{0x2a, 16, 0x680, true, false},
        Row{0x3c, 16, 0x680, true, true}, Row{0x4f, 16, 0x680, true, true}, Row{0x55, 32, 0x680, true, true},
        Row{0x8e, 32, 0x680, true, true}, Row{0x5c, 32, 0x680, true, true}, Row{0x7a, 32, 0x680, true, true}}) {
    SCOPED_TRACE(r.model);
    LbrInfo l = lbr_for_model(r.model);
    EXPECT_EQ(l.kind, LbrKind::kModelSpecific);
    EXPECT_EQ(l.depth, r.depth);
    EXPECT_EQ(l.from_msr, r.from);
    EXPECT_EQ(l.to_msr, r.from + 0x20u + (r.from == 0x680 ? 0x20u : 0u));
    EXPECT_EQ(l.select_msr != 0, r.select);
    EXPECT_EQ(l.call_stack, r.call_stack);
  }
  EXPECT_EQ(lbr_for_model(0x97).kind, LbrKind::kNone);  // Alder Lake: architectural LBR
}

TEST(LbrDiscovery, KnightsLandingFormat1HasMispredict) {
  arch::CpuidRegs l1{0x0005'0671, 0, 1u << 15, 0};  // family 6 model 0x57
  LbrInfo l = decode_lbr(arch::CpuVendor::kIntel, l1, {}, {}, {}, 0x1);
  EXPECT_EQ(l.depth, 8);
  EXPECT_EQ(l.format.mispredict, MispredictAt::kFromBit63);
}

// ---------------------------------------------------------------------------
// Record formats.

constexpr uint64_t kKernelAddr = 0xffff'ffff'8010'2030;
constexpr uint64_t kUserAddr = 0x0000'0000'0040'1000;
constexpr uint64_t kBit63 = uint64_t{1} << 63;

LbrFormat fmt(uint8_t code) { return lbr_format(code).value(); }

TEST(LbrFormat, Format3MispredictInFrom63AndSignExtendsFrom62) {
  EXPECT_EQ(lbr_decode(fmt(3), kKernelAddr, kUserAddr, 0), (LbrEntry{kKernelAddr, kUserAddr, true}));
  EXPECT_EQ(lbr_decode(fmt(3), kKernelAddr & ~kBit63, kUserAddr, 0), (LbrEntry{kKernelAddr, kUserAddr, false}));
  EXPECT_EQ(lbr_decode(fmt(3), kUserAddr | kBit63, kKernelAddr, 0), (LbrEntry{kUserAddr, kKernelAddr, true}));
}

TEST(LbrFormat, Format4KeepsTsxFlagsOutOfTheAddress) {
  // MISPRED, IN_TSX and TSX_ABORT in 63:61; a kernel address with 62:61
  // clear by the flags and a user one with them set.
  const uint64_t kernel_no_flags = kKernelAddr & ~(uint64_t{7} << 61);
  EXPECT_EQ(lbr_decode(fmt(4), kernel_no_flags, kKernelAddr, 0), (LbrEntry{kKernelAddr, kKernelAddr, false}));
  EXPECT_EQ(lbr_decode(fmt(4), kUserAddr | (uint64_t{7} << 61), kUserAddr, 0), (LbrEntry{kUserAddr, kUserAddr, true}));
}

TEST(LbrFormat, Format5MispredictInLbrInfo) {
  EXPECT_EQ(lbr_decode(fmt(5), kKernelAddr, kUserAddr, kBit63 | 0x1234), (LbrEntry{kKernelAddr, kUserAddr, true}));
  EXPECT_EQ(lbr_decode(fmt(5), kKernelAddr, kUserAddr, 0x1234), (LbrEntry{kKernelAddr, kUserAddr, false}));
  // FROM[63] is no flag here, and 62:61 read as zero with TSX off.
  EXPECT_EQ(lbr_decode(fmt(5), kKernelAddr & ~(uint64_t{3} << 61), kUserAddr, 0),
            (LbrEntry{kKernelAddr, kUserAddr, false}));
  EXPECT_TRUE(fmt(5).info);
  EXPECT_TRUE(fmt(7).info);
  EXPECT_FALSE(fmt(3).info);
}

TEST(LbrFormat, Format6CycleCountInTo) {
  const uint64_t to = (uint64_t{0xbeef} << 48) | (kKernelAddr & 0xffff'ffff'ffff);
  EXPECT_EQ(lbr_decode(fmt(6), kUserAddr | kBit63, to, 0), (LbrEntry{kUserAddr, kKernelAddr, true}));
}

TEST(LbrFormat, AddressOnlyFormats) {
  EXPECT_EQ(lbr_decode(fmt(0), 0xdead'beef'0040'1000, 0x1234'5678'0040'2000, kBit63),
            (LbrEntry{0x40'1000, 0x40'2000, false}));
  for (uint8_t code : {1, 2})
    EXPECT_EQ(lbr_decode(fmt(code), kKernelAddr, kUserAddr, kBit63), (LbrEntry{kKernelAddr, kUserAddr, false}));
  EXPECT_EQ(lbr_format(8).error(), base::Error::kUnsupported);
}

// ---------------------------------------------------------------------------
// LbrStack against the fake MSR bank.

LbrInfo skylake() {
  FakeCpuid cpuid = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, kSkylakeCaps);
  arch::testing::FakeMsr msr{&bank};
  return discover_lbr(cpuid, msr);
}

LbrInfo core2() {
  FakeCpuid cpuid = load("testdata/cpuid/intel-core2-6300.cpuid.txt");
  FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, 0x3);
  arch::testing::FakeMsr msr{&bank};
  return discover_lbr(cpuid, msr);
}

TEST(LbrStack, ReadsNewestFirstFromTosAndWraps) {
  const LbrInfo info = skylake();
  FakeMsrBank bank;
  for (uint32_t i = 0; i < 32; ++i) {
    bank.set(0x680 + i, 0xffff'ffff'8000'0000 + i);  // FROM
    bank.set(0x6c0 + i, 0xffff'ffff'9000'0000 + i);  // TO
    bank.set(0xdc0 + i, i % 3 == 0 ? kBit63 : 0);    // LBR_INFO: every third mispredicted
  }
  bank.set(kMsrLastbranchTos, 5);
  LbrStack<arch::testing::FakeMsr> stack(info, {&bank});
  LbrEntry out[kMaxLbrDepth];
  ASSERT_EQ(stack.read(out, kMaxLbrDepth), 32u);
  for (uint32_t i = 0; i < 32; ++i) {
    const uint32_t idx = (5 - i) & 31;  // 5, 4, ..., 0, 31, ..., 6
    EXPECT_EQ(out[i], (LbrEntry{0xffff'ffff'8000'0000 + idx, 0xffff'ffff'9000'0000 + idx, idx % 3 == 0})) << i;
  }
  // TOS first, then FROM, TO and INFO of each record, newest first.
  const std::vector<Access>& log = bank.log();
  ASSERT_EQ(log.size(), 1u + 3 * 32);
  EXPECT_EQ(log[0].msr, kMsrLastbranchTos);
  EXPECT_EQ(log[1].msr, 0x685u);
  EXPECT_EQ(log[2].msr, 0x6c5u);
  EXPECT_EQ(log[3].msr, 0xdc5u);
  EXPECT_EQ(log[3 * 6 + 1].msr, 0x680u + 31);  // the seventh record wrapped
  for (const Access& a : log) EXPECT_FALSE(a.write);
  EXPECT_TRUE(bank.unknown().empty());
}

TEST(LbrStack, ReadStopsAtTheCallersCapacityAndSkipsEmptyRecords) {
  const LbrInfo info = core2();
  FakeMsrBank bank;
  for (uint32_t i = 0; i < 4; ++i) {
    bank.set(0x40 + i, 0);
    bank.set(0x60 + i, 0);
  }
  // Records 1 and 0 were written (1 newest, mispredicted); 3 and 2 never.
  bank.set(0x41, kUserAddr | kBit63);
  bank.set(0x61, kKernelAddr);
  bank.set(0x40, kKernelAddr & ~kBit63);
  bank.set(0x60, kUserAddr);
  bank.set(kMsrLastbranchTos, 0xfffc | 1);  // only TOS's low bits index the stack
  LbrStack<arch::testing::FakeMsr> stack(info, {&bank});
  LbrEntry out[4];
  ASSERT_EQ(stack.read(out, 4), 2u);
  EXPECT_EQ(out[0], (LbrEntry{kUserAddr, kKernelAddr, true}));
  EXPECT_EQ(out[1], (LbrEntry{kKernelAddr, kUserAddr, false}));
  for (const Access& a : bank.log()) EXPECT_LT(a.msr, 0xdc0u);  // no LBR_INFO on format 3

  bank.clear_log();
  ASSERT_EQ(stack.read(out, 1), 1u);
  EXPECT_EQ(out[0], (LbrEntry{kUserAddr, kKernelAddr, true}));
  EXPECT_EQ(bank.log().size(), 3u);  // TOS, FROM, TO of one record
  EXPECT_TRUE(bank.unknown().empty());
}

TEST(LbrStack, EnableSetsFilterThenDebugctl) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, uint64_t{1} << 12);  // FREEZE_PERFMON_ON_PMI, set by Pmc: kept
  LbrStack<arch::testing::FakeMsr> stack(skylake(), {&bank});
  ASSERT_TRUE(stack.enable().ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{
                            {true, kMsrLbrSelect, 0x102},  // CPL_NEQ_0 | FAR_BRANCH
                            {false, kIa32Debugctl, 0x1000},
                            {true, kIa32Debugctl, 0x1801},  // LBR | FREEZE_LBRS_ON_PMI
                        }));
  bank.clear_log();
  ASSERT_TRUE(stack.disable().ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{{false, kIa32Debugctl, 0x1801}, {true, kIa32Debugctl, 0x1000}}));

  // Call-stack mode records without the freeze, so unfreeze has nothing
  // to undo.
  bank.clear_log();
  ASSERT_TRUE(stack.enable(kLbrSelectKernelOnly | kLbrSelectEnCallstack).ok());
  EXPECT_EQ(bank.writes(), (std::vector<Access>{{true, kMsrLbrSelect, 0x302}, {true, kIa32Debugctl, 0x1001}}));
  bank.clear_log();
  ASSERT_TRUE(stack.unfreeze().ok());
  EXPECT_TRUE(bank.log().empty());
}

TEST(LbrStack, EnableRefusesWhatTheModelLacks) {
  FakeMsrBank bank;
  LbrInfo nehalem = lbr_for_model(0x1a);
  nehalem.format = fmt(3);
  LbrStack<arch::testing::FakeMsr> stack(nehalem, {&bank});
  EXPECT_EQ(stack.enable(kLbrSelectEnCallstack).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(stack.enable(uint64_t{1} << 10).error(), base::Error::kInvalidArgument);
  EXPECT_TRUE(bank.log().empty());
}

TEST(LbrStack, Core2HasNoFilterToWrite) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  LbrStack<arch::testing::FakeMsr> stack(core2(), {&bank});
  ASSERT_TRUE(stack.enable().ok());
  EXPECT_EQ(bank.writes(), (std::vector<Access>{{true, kIa32Debugctl, 0x801}}));
}

TEST(LbrStack, UnfreezeOnV4ClearsLbrFrz) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  LbrStack<arch::testing::FakeMsr> stack(skylake(), {&bank});
  ASSERT_TRUE(stack.enable().ok());
  bank.clear_log();
  ASSERT_TRUE(stack.unfreeze().ok());
  // IA32_PERF_GLOBAL_STATUS_RESET.LBR_FRZ, and DEBUGCTL untouched.
  EXPECT_EQ(bank.log(), (std::vector<Access>{{true, kIa32PerfGlobalOvfCtrl, uint64_t{1} << 58}}));
}

TEST(LbrStack, UnfreezeBeforeV4SetsDebugctlLbrAgain) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  LbrStack<arch::testing::FakeMsr> stack(core2(), {&bank});
  ASSERT_TRUE(stack.enable().ok());
  // The PMI: the CPU clears DEBUGCTL.LBR and keeps FREEZE_LBRS_ON_PMI.
  bank.set(kIa32Debugctl, 0x800);
  bank.clear_log();
  ASSERT_TRUE(stack.unfreeze().ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{{false, kIa32Debugctl, 0x800}, {true, kIa32Debugctl, 0x801}}));
}

TEST(LbrStack, PerfmonV1HasNoFreezeBitToSet) {
  // FREEZE_LBRS_ON_PMI is reserved before perfmon v2: setting it would #GP.
  FakeCpuid cpuid = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  arch::CpuidRegs a = cpuid.get(0xa, 0);
  cpuid.set(0xa, 0, {(a.eax & ~0xffu) | 1, a.ebx, a.ecx, a.edx});
  FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, kSkylakeCaps);
  bank.set(kIa32Debugctl, 0);
  arch::testing::FakeMsr msr{&bank};
  LbrInfo info = discover_lbr(cpuid, msr);
  EXPECT_FALSE(info.freeze_on_pmi);
  EXPECT_FALSE(info.streamlined_freeze);
  LbrStack<arch::testing::FakeMsr> stack(info, msr);
  bank.clear_log();
  ASSERT_TRUE(stack.enable().ok());
  EXPECT_EQ(bank.writes(), (std::vector<Access>{{true, kMsrLbrSelect, 0x102}, {true, kIa32Debugctl, 0x1}}));
  bank.clear_log();
  ASSERT_TRUE(stack.unfreeze().ok());
  EXPECT_TRUE(bank.log().empty());
  ASSERT_TRUE(stack.disable().ok());
  EXPECT_EQ(bank.writes(), (std::vector<Access>{{true, kIa32Debugctl, 0x0}}));
}

LbrInfo arch_lbr(uint32_t depth_bits, uint32_t ebx = 0x7, uint32_t ecx = 0x7) {
  FakeMsrBank bank;
  arch::testing::FakeMsr msr{&bank};
  return discover_lbr(arch_lbr_cpu(depth_bits, ebx, ecx), msr);
}

TEST(LbrStack, ArchitecturalEnableWritesDepthFreezeThenLbrCtl) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, uint64_t{1} << 12);
  LbrStack<arch::testing::FakeMsr> stack(arch_lbr(0xf), {&bank});
  ASSERT_TRUE(stack.enable().ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{
                            {true, kIa32LbrDepth, 32},
                            {false, kIa32Debugctl, 0x1000},
                            {true, kIa32Debugctl, 0x1800},   // FREEZE_LBRS_ON_PMI, no DEBUGCTL.LBR
                            {true, kIa32LbrCtl, 0x3f'0003},  // LBREn, OS; near branch types, no far ones
                        }));
  bank.clear_log();
  ASSERT_TRUE(stack.unfreeze().ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{{true, kIa32PerfGlobalOvfCtrl, uint64_t{1} << 58}}));
  bank.clear_log();
  ASSERT_TRUE(stack.disable().ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{
                            {true, kIa32LbrCtl, 0},
                            {false, kIa32Debugctl, 0x1800},
                            {true, kIa32Debugctl, 0x1000},
                        }));

  // Call-stack mode: CALL_STACK, no freeze (so unfreeze writes nothing).
  bank.clear_log();
  ASSERT_TRUE(stack.enable(kLbrSelectKernelOnly | kLbrSelectEnCallstack).ok());
  EXPECT_EQ(bank.writes().back(), (Access{true, kIa32LbrCtl, 0x3f'000b}));
  EXPECT_EQ(bank.get(kIa32Debugctl), 0x1000u);
  bank.clear_log();
  ASSERT_TRUE(stack.unfreeze().ok());
  EXPECT_TRUE(bank.log().empty());
}

TEST(LbrStack, ArchitecturalFilterFollowsLeaf1c) {
  FakeMsrBank bank;
  bank.set(kIa32Debugctl, 0);
  // No branch-type filter: only LBREn and the ring bits.
  LbrStack<arch::testing::FakeMsr> no_types(arch_lbr(0xf, 0x1), {&bank});
  ASSERT_TRUE(no_types.enable(kLbrSelectCplEq0).ok());  // user only
  EXPECT_EQ(bank.get(kIa32LbrCtl), kLbrCtlLbrEn | kLbrCtlUsr);
  EXPECT_EQ(no_types.enable(kLbrSelectEnCallstack).error(), base::Error::kInvalidArgument);
  // No CPL filter: a kernel-only stack cannot be had; nothing is written.
  bank.clear_log();
  LbrStack<arch::testing::FakeMsr> no_cpl(arch_lbr(0xf, 0x0), {&bank});
  EXPECT_EQ(no_cpl.enable().error(), base::Error::kUnsupported);
  EXPECT_TRUE(bank.log().empty());
}

TEST(LbrStack, ArchitecturalReadsRecordZeroFirst) {
  FakeMsrBank bank;
  for (uint32_t i = 0; i < 32; ++i) {
    bank.set(0x1500 + i, i < 20 ? kKernelAddr + i : 0);  // 12 records never written
    bank.set(0x1600 + i, i < 20 ? kUserAddr + i : 0);
    bank.set(0x1200 + i, i % 2 ? kBit63 | 0x55 : 0x55);
  }
  LbrStack<arch::testing::FakeMsr> stack(arch_lbr(0xf), {&bank});
  LbrEntry out[kMaxLbrDepth];
  ASSERT_EQ(stack.read(out, kMaxLbrDepth), 20u);
  for (uint32_t i = 0; i < 20; ++i) EXPECT_EQ(out[i], (LbrEntry{kKernelAddr + i, kUserAddr + i, i % 2 == 1})) << i;
  EXPECT_EQ(bank.log()[0].msr, 0x1500u);  // no TOS to read
  EXPECT_EQ(bank.log()[3].msr, 0x1501u);
  EXPECT_TRUE(bank.unknown().empty());

  // Without the mispredict bit (CPUID.1CH:ECX[0] clear) INFO[63] is no flag.
  LbrStack<arch::testing::FakeMsr> no_mispredict(arch_lbr(0xf, 0x7, 0x0), {&bank});
  ASSERT_EQ(no_mispredict.read(out, 2), 2u);
  EXPECT_FALSE(out[1].mispredicted);
}

TEST(LbrStack, WithoutAStackNothingIsTouched) {
  FakeMsrBank bank;
  arch::testing::FakeMsr msr{&bank};
  FakeMsrBank probe;
  arch::testing::FakeMsr probe_msr{&probe};
  for (const LbrInfo& info : {discover_lbr(load("testdata/boot/m512M-smp4-max.cpuid.txt"), probe_msr),
                              discover_lbr(arch_lbr_cpu(0), probe_msr)}) {
    LbrStack<arch::testing::FakeMsr> stack(info, msr);
    EXPECT_EQ(stack.enable().error(), base::Error::kUnsupported);
    EXPECT_EQ(stack.disable().error(), base::Error::kUnsupported);
    EXPECT_EQ(stack.unfreeze().error(), base::Error::kUnsupported);
    LbrEntry out[4];
    EXPECT_EQ(stack.read(out, 4), 0u);
  }
  EXPECT_TRUE(bank.log().empty());
}

}  // namespace
}  // namespace prof
