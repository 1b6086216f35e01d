// PMU discovery against real CPUID captures (testdata/cpuid: Skylake,
// Core 2, Zen, a VirtualBox AMD guest; testdata/boot: QEMU TCG) and event
// availability from leaf 0xA's EBX mask.
#include "src/prof/pmu.h"

#include <gtest/gtest.h>

#include <string>

#include "src/arch/testing/fake_cpuid.h"

namespace prof {
namespace {

using arch::testing::FakeCpuid;

FakeCpuid load(const std::string& path) {
  int lines = 0;
  FakeCpuid fake = FakeCpuid::from_testdata(path, &lines);
  EXPECT_GT(lines, 0) << path;
  return fake;
}

std::string describe_str(const PmuInfo& p) {
  char buf[64];
  describe(p, buf, sizeof buf);
  return buf;
}

TEST(Pmu, IntelSkylakeV4) {
  PmuInfo p = discover_pmu(load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt"));
  EXPECT_EQ(p.kind, PmuKind::kIntelArch);
  EXPECT_EQ(p.version, 4);
  EXPECT_EQ(p.gp_counters, 4);
  EXPECT_EQ(p.gp_width, 48);
  EXPECT_EQ(p.fixed_counters, 3);
  EXPECT_EQ(p.fixed_width, 48);
  EXPECT_TRUE(p.freeze_on_pmi);
  EXPECT_EQ(p.unavailable_arch_events, ~uint32_t{0x7f});  // all seven enumerated, none missing
  EXPECT_EQ(describe_str(p), "intel v4, 4 general 48-bit + 3 fixed");
  EXPECT_EQ(event_code(p, Event::kCycles).value(), (EventCode{0x3c, 0x00}));
  EXPECT_EQ(event_code(p, Event::kInstructions).value(), (EventCode{0xc0, 0x00}));
  EXPECT_EQ(event_code(p, Event::kBranchMisses).value(), (EventCode{0xc5, 0x00}));
  EXPECT_EQ(event_code(p, Event::kLlcMisses).value(), (EventCode{0x2e, 0x41}));
  // IA32_PMCx writes sign-extend bit 31: reloads stay below 2^31.
  EXPECT_EQ(max_reload(p), (uint64_t{1} << 31) - 1);
}

TEST(Pmu, IntelCore2V2ReportsNoFixedCounters) {
  PmuInfo p = discover_pmu(load("testdata/cpuid/intel-core2-6300.cpuid.txt"));
  EXPECT_EQ(p.kind, PmuKind::kIntelArch);
  EXPECT_EQ(p.version, 2);
  EXPECT_EQ(p.gp_counters, 2);
  EXPECT_EQ(p.gp_width, 40);
  EXPECT_EQ(p.fixed_counters, 0);
  EXPECT_TRUE(p.freeze_on_pmi);
  EXPECT_EQ(describe_str(p), "intel v2, 2 general 40-bit + 0 fixed");
  EXPECT_TRUE(event_code(p, Event::kLlcMisses).ok());
}

TEST(Pmu, AmdZenCoreCounters) {
  PmuInfo p = discover_pmu(load("testdata/cpuid/amd-ryzen-7-1700.cpuid.txt"));
  EXPECT_EQ(p.kind, PmuKind::kAmdCore);
  EXPECT_EQ(p.gp_counters, 6);
  EXPECT_EQ(p.gp_width, 48);
  EXPECT_EQ(p.version, 0);
  EXPECT_FALSE(p.freeze_on_pmi);
  EXPECT_EQ(describe_str(p), "amd core, 6 general 48-bit");
  EXPECT_EQ(event_code(p, Event::kCycles).value(), (EventCode{0x076, 0}));
  EXPECT_EQ(event_code(p, Event::kInstructions).value(), (EventCode{0x0c0, 0}));
  EXPECT_EQ(event_code(p, Event::kBranchMisses).value(), (EventCode{0x0c3, 0}));
  EXPECT_EQ(event_code(p, Event::kLlcMisses).error(), base::Error::kUnsupported);
  EXPECT_EQ(max_reload(p), (uint64_t{1} << 47) - 1);
}

TEST(Pmu, AmdGuestWithoutCoreExtensionsHasNone) {
  // VirtualBox hides PerfCtrExtCore and sets the hypervisor bit.
  PmuInfo p = discover_pmu(load("testdata/cpuid/amd-ryzen-9-3950x-virtualbox-hyperv.cpuid.txt"));
  EXPECT_EQ(p.kind, PmuKind::kNone);
}

TEST(Pmu, AmdBareMetalWithoutCoreExtensionsHasLegacyCounters) {
  // The same capture with the hypervisor bit cleared: what a pre-family-15h
  // AMD CPU reports (no bit 23, no hypervisor).
  FakeCpuid fake = load("testdata/cpuid/amd-ryzen-9-3950x-virtualbox-hyperv.cpuid.txt");
  arch::CpuidRegs l1 = fake.get(1, 0);
  l1.ecx &= ~(1u << 31);
  fake.set(1, 0, l1);
  PmuInfo p = discover_pmu(fake);
  EXPECT_EQ(p.kind, PmuKind::kAmdLegacy);
  EXPECT_EQ(p.gp_counters, 4);
  EXPECT_EQ(p.gp_width, 48);
  EXPECT_EQ(describe_str(p), "amd legacy k7, 4 general 48-bit");
}

TEST(Pmu, QemuTcgHasNone) {
  for (const char* config : {"m512M-smp4-max", "m32M-smp1-qemu64", "m2G-smp4-q35-max"}) {
    SCOPED_TRACE(config);
    PmuInfo p = discover_pmu(load(std::string("testdata/boot/") + config + ".cpuid.txt"));
    EXPECT_EQ(p.kind, PmuKind::kNone);
    EXPECT_EQ(describe_str(p), "none");
    // All are AuthenticAMD with the hypervisor bit and no PerfCtrExtCore.
    ASSERT_NE(p.none_reason, nullptr);
    EXPECT_EQ(std::string(p.none_reason),
              "an AMD CPU under a hypervisor (CPUID.01H:ECX[31]) without core counters (CPUID.80000001H:ECX[23] "
              "clear)");
    EXPECT_EQ(max_reload(p), 0u);
    for (Event e : {Event::kCycles, Event::kInstructions, Event::kBranchMisses, Event::kLlcMisses})
      EXPECT_EQ(event_code(p, e).error(), base::Error::kUnsupported);
  }
}

TEST(Pmu, NoneReasonNamesTheCpuidBits) {
  const arch::CpuidRegs zero{};
  PmuInfo v0 = decode_pmu(arch::CpuVendor::kIntel, zero, zero, zero);
  EXPECT_EQ(v0.kind, PmuKind::kNone);
  EXPECT_EQ(std::string(v0.none_reason), "CPUID.0AH reports architectural perfmon version 0");
  arch::CpuidRegs no_counters{};
  no_counters.eax = 0x0730'0002;  // v2, 0 general counters
  EXPECT_EQ(std::string(decode_pmu(arch::CpuVendor::kIntel, zero, no_counters, zero).none_reason),
            "CPUID.0AH reports no general-purpose counters");
  EXPECT_EQ(std::string(decode_pmu(arch::CpuVendor::kOther, zero, zero, zero).none_reason),
            "neither an Intel nor an AMD CPU");
  // A PMU that exists has no reason.
  EXPECT_EQ(discover_pmu(load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt")).none_reason, nullptr);
  EXPECT_EQ(discover_pmu(load("testdata/cpuid/amd-ryzen-7-1700.cpuid.txt")).none_reason, nullptr);
}

TEST(Pmu, EventAvailabilityFromEbxMask) {
  FakeCpuid fake = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  const arch::CpuidRegs a = fake.get(0xa, 0);

  // EBX bit 6 set: branch misses retired not available; the rest are.
  fake.set(0xa, 0, {a.eax, 1u << 6, a.ecx, a.edx});
  PmuInfo p = discover_pmu(fake);
  EXPECT_EQ(event_code(p, Event::kBranchMisses).error(), base::Error::kUnsupported);
  EXPECT_TRUE(event_code(p, Event::kCycles).ok());
  EXPECT_TRUE(event_code(p, Event::kLlcMisses).ok());

  // EBX bits 0 and 4: core cycles and LLC misses not available.
  fake.set(0xa, 0, {a.eax, (1u << 0) | (1u << 4), a.ecx, a.edx});
  p = discover_pmu(fake);
  EXPECT_EQ(event_code(p, Event::kCycles).error(), base::Error::kUnsupported);
  EXPECT_EQ(event_code(p, Event::kLlcMisses).error(), base::Error::kUnsupported);
  EXPECT_TRUE(event_code(p, Event::kInstructions).ok());
  EXPECT_TRUE(event_code(p, Event::kBranchMisses).ok());

  // EBX length 5 (EAX[31:24]): events 5 and 6 are not enumerated, so branch
  // misses (6) is unavailable though its EBX bit is clear.
  fake.set(0xa, 0, {(a.eax & 0x00ff'ffff) | (5u << 24), 0, a.ecx, a.edx});
  p = discover_pmu(fake);
  EXPECT_EQ(event_code(p, Event::kBranchMisses).error(), base::Error::kUnsupported);
  EXPECT_TRUE(event_code(p, Event::kLlcMisses).ok());
}

TEST(Pmu, LeafAboveMaximumIsNotRead) {
  // A CPU whose maximum basic leaf is 9 answers leaf 0xA with leaf 9's data
  // (the fake does so, like QEMU); discovery must not take that for a PMU.
  FakeCpuid fake = load("testdata/cpuid/intel-core-i7-6700k.cpuid.txt");
  arch::CpuidRegs l0 = fake.get(0, 0);
  l0.eax = 9;
  fake.set(0, 0, l0);
  fake.set(9, 0, fake.get(0xa, 0));
  FakeCpuid only_below;
  for (uint32_t leaf : {0u, 1u, 9u, 0x8000'0000u, 0x8000'0001u}) only_below.set(leaf, 0, fake.get(leaf, 0));
  EXPECT_EQ(discover_pmu(only_below).kind, PmuKind::kNone);
}

TEST(Pmu, CountersBeyondTrackedAreIgnored) {
  PmuInfo p = decode_pmu(arch::CpuVendor::kIntel, {}, {0x0730'0c04, 0, 0, 0x603}, {});
  EXPECT_EQ(p.gp_counters, kMaxCounters);  // 12 reported, 8 tracked
}

}  // namespace
}  // namespace prof
