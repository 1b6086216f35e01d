// Tests for CPUID decoding: every real dump in testdata/boot (QEMU TCG,
// qemu64 and max models) checked against what its README states, plus
// hand-made Intel-like leaves for what QEMU does not report (PMU, 0x15/0x16).
#include "src/arch/cpu_features.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "src/arch/testing/fake_cpuid.h"

namespace arch {
namespace {

using arch::testing::FakeCpuid;

// A dump from testdata/boot, `leaf subleaf eax ebx ecx edx  # note` lines.
FakeCpuid load_dump(const std::string& config, size_t* lines) {
  int n = 0;
  FakeCpuid fake = FakeCpuid::from_testdata("testdata/boot/" + config + ".cpuid.txt", &n);
  EXPECT_GT(n, 0) << config << ": missing, empty or a bad line";
  *lines = n > 0 ? static_cast<size_t>(n) : 0;
  return fake;
}

std::string str(base::StrView v) { return std::string(v.data(), v.size()); }

struct Config {
  const char* name;
  bool max_model;  // -cpu max (else qemu64)
};
const Config kConfigs[] = {
    {"m32M-smp1-qemu64", false}, {"m128M-smp2-qemu64", false}, {"m3584M-smp2-qemu64", false},
    {"m512M-smp4-max", true},    {"m4G-smp8-max", true},       {"m2G-smp4-q35-max", true},
};

TEST(CpuFeatures, RealQemuDumps) {
  for (const Config& c : kConfigs) {
    SCOPED_TRACE(c.name);
    size_t lines = 0;
    FakeCpuid fake = load_dump(c.name, &lines);
    ASSERT_GT(lines, 10u) << "testdata not found (run from the repo root or under bazel)";
    CpuFeatures f = decode_cpuid(fake);

    // README: AMD vendor for qemu64 and for max under TCG.
    EXPECT_EQ(str(f.vendor_str()), "AuthenticAMD");
    EXPECT_EQ(f.vendor_id, CpuVendor::kAmd);
    // 0x00060fb1: family 0xF (+0), model 0x6b, stepping 1.
    EXPECT_EQ(f.family, 0xfu);
    EXPECT_EQ(f.model, 0x6bu);
    EXPECT_EQ(f.stepping, 1u);
    EXPECT_EQ(f.max_basic_leaf, 0xdu);
    EXPECT_EQ(f.max_extended_leaf, 0x8000'000au);

    // Never a leaf above the maximum (the dumps hold QEMU's echo of 0xD
    // for 0x15/0x16 on max: decoding it would invent a TSC frequency).
    for (uint32_t leaf : fake.queried()) {
      if (leaf < 0x8000'0000)
        EXPECT_LE(leaf, f.max_basic_leaf) << std::hex << leaf;
      else
        EXPECT_LE(leaf, f.max_extended_leaf) << std::hex << leaf;
    }
    EXPECT_TRUE(fake.missing().empty());
    EXPECT_EQ(f.tsc_ratio_denominator, 0u);
    EXPECT_EQ(f.tsc_ratio_numerator, 0u);
    EXPECT_EQ(f.crystal_hz, 0u);
    EXPECT_EQ(f.base_mhz, 0u);
    EXPECT_EQ(f.max_mhz, 0u);
    EXPECT_EQ(f.bus_mhz, 0u);

    // No PMU; invariant TSC clear.
    EXPECT_EQ(f.perfmon_version, 0);
    EXPECT_EQ(f.gp_counters, 0);
    EXPECT_EQ(f.fixed_counters, 0);
    EXPECT_FALSE(f.invariant_tsc);

    EXPECT_TRUE(f.long_mode);
    EXPECT_TRUE(f.nx);
    EXPECT_TRUE(f.sse2);
    EXPECT_TRUE(f.hypervisor);
    EXPECT_FALSE(f.x2apic);  // TCG offers none on either model
    EXPECT_FALSE(f.tsc_deadline);
    EXPECT_FALSE(f.pcid);
    EXPECT_FALSE(f.pdcm);
    EXPECT_EQ(f.phys_addr_bits, 40);
    EXPECT_EQ(f.initial_apic_id, 0);  // the BSP
    // The probe that captured the dumps never set CR4.OSXSAVE.
    EXPECT_FALSE(f.osxsave);

    if (c.max_model) {
      EXPECT_EQ(f.linear_addr_bits, 57);
      EXPECT_TRUE(f.la57);
      EXPECT_TRUE(f.pages_1g);
      EXPECT_TRUE(f.avx2);
      EXPECT_TRUE(f.xsave);
      // Leaf 0xD.0 EAX 0x21f: x87, SSE, AVX, MPX (2 bits) and PKRU.
      EXPECT_TRUE(f.avx);
      EXPECT_EQ(f.xcr0_supported, 0x21fu);
      EXPECT_TRUE(avx_state_supported(f));
      EXPECT_TRUE(f.monitor_mwait);
      EXPECT_TRUE(f.arat);
      EXPECT_TRUE(f.fsgsbase);
      EXPECT_TRUE(f.smep);
      EXPECT_TRUE(f.smap);
      EXPECT_TRUE(f.umip);
    } else {
      EXPECT_EQ(f.linear_addr_bits, 48);
      EXPECT_FALSE(f.la57);
      EXPECT_FALSE(f.pages_1g);
      EXPECT_FALSE(f.avx2);
      EXPECT_FALSE(f.xsave);
      EXPECT_FALSE(f.avx);
      EXPECT_EQ(f.xcr0_supported, 0u);
      EXPECT_FALSE(avx_state_supported(f));
      EXPECT_FALSE(f.monitor_mwait);
      EXPECT_FALSE(f.arat);
      EXPECT_FALSE(f.smep);
      EXPECT_FALSE(f.smap);
    }
  }
}

// An Intel client part (Tiger Lake-like signature) reporting every leaf.
FakeCpuid intel_like(uint32_t max_leaf) {
  FakeCpuid fake;
  fake.set(0, 0, {max_leaf, 0x756e'6547, 0x6c65'746e, 0x4965'6e69});  // "GenuineIntel"
  fake.set(1, 0, {0x0008'06c1, 0x0310'0800, 0x7ffa'fbff, 0xbfeb'fbff});
  fake.set(6, 0, {0x0000'0004, 0, 0, 0});
  fake.set(7, 0, {0, 0x0000'0020, 0, 0});
  fake.set(0xd, 0, {0x0000'0207, 0x0000'0340, 0x0000'0a80, 0});  // x87|SSE|AVX|PKRU
  // Version 5, 8 GP counters of 48 bits, 4 fixed counters of 48 bits.
  fake.set(0xa, 0, {0x0730'0805, 0, 0, 0x0000'0604});
  // 38.4 MHz crystal, ratio 200/2: a 3.84 GHz TSC.
  fake.set(0x15, 0, {2, 200, 38'400'000, 0});
  fake.set(0x16, 0, {3000, 4500, 100, 0});
  fake.set(0x8000'0000, 0, {0x8000'0008, 0, 0, 0});
  fake.set(0x8000'0001, 0, {0, 0, 0x0000'0121, 0x2c10'0800});
  fake.set(0x8000'0007, 0, {0, 0, 0, 0x0000'0100});
  fake.set(0x8000'0008, 0, {0x0000'3027, 0, 0, 0});
  return fake;
}

TEST(CpuFeatures, IntelLikeLeaves) {
  FakeCpuid fake = intel_like(0x1b);
  CpuFeatures f = decode_cpuid(fake);
  EXPECT_EQ(str(f.vendor_str()), "GenuineIntel");
  EXPECT_EQ(f.vendor_id, CpuVendor::kIntel);
  EXPECT_EQ(f.family, 6u);
  EXPECT_EQ(f.model, 0x8cu);  // extended model applies to family 6 on Intel
  EXPECT_EQ(f.stepping, 1u);
  EXPECT_EQ(f.initial_apic_id, 3);
  EXPECT_TRUE(f.x2apic);
  EXPECT_TRUE(f.tsc_deadline);
  EXPECT_TRUE(f.pcid);
  EXPECT_TRUE(f.pdcm);
  EXPECT_TRUE(f.xsave);
  EXPECT_TRUE(f.monitor_mwait);
  EXPECT_TRUE(f.sse2);
  EXPECT_FALSE(f.hypervisor);
  EXPECT_TRUE(f.avx2);
  EXPECT_TRUE(f.avx);
  EXPECT_EQ(f.xcr0_supported, 0x207u);
  EXPECT_TRUE(f.arat);
  EXPECT_TRUE(f.invariant_tsc);
  EXPECT_TRUE(f.pages_1g);
  EXPECT_TRUE(f.nx);
  EXPECT_TRUE(f.long_mode);

  EXPECT_EQ(f.perfmon_version, 5);
  EXPECT_EQ(f.gp_counters, 8);
  EXPECT_EQ(f.gp_counter_width, 48);
  EXPECT_EQ(f.fixed_counters, 4);
  EXPECT_EQ(f.fixed_counter_width, 48);

  EXPECT_EQ(f.tsc_ratio_denominator, 2u);
  EXPECT_EQ(f.tsc_ratio_numerator, 200u);
  EXPECT_EQ(f.crystal_hz, 38'400'000u);
  EXPECT_EQ(f.base_mhz, 3000u);
  EXPECT_EQ(f.max_mhz, 4500u);
  EXPECT_EQ(f.bus_mhz, 100u);

  EXPECT_EQ(f.phys_addr_bits, 39);
  EXPECT_EQ(f.linear_addr_bits, 48);
  EXPECT_TRUE(fake.missing().empty());
}

TEST(CpuFeatures, LeavesAboveMaximumAreIgnored) {
  // Max leaf 0x15: leaf 0x15 is used, 0x16 is not even asked for.
  FakeCpuid fake = intel_like(0x15);
  CpuFeatures f = decode_cpuid(fake);
  EXPECT_EQ(f.crystal_hz, 38'400'000u);
  EXPECT_EQ(f.base_mhz, 0u);
  EXPECT_EQ(fake.queried().count(0x16), 0u);

  // Max leaf 6: no leaf 7 (AVX2), no PMU, no 0x15.
  FakeCpuid old = intel_like(6);
  CpuFeatures g = decode_cpuid(old);
  EXPECT_FALSE(g.avx2);
  EXPECT_EQ(g.perfmon_version, 0);
  EXPECT_EQ(g.crystal_hz, 0u);
  EXPECT_TRUE(g.arat);
  for (uint32_t leaf : old.queried()) EXPECT_TRUE(leaf <= 6 || leaf >= 0x8000'0000) << std::hex << leaf;
}

TEST(CpuFeatures, PerfmonVersion1HasNoFixedCounters) {
  FakeCpuid fake = intel_like(0x16);
  fake.set(0xa, 0, {0x0728'0201, 0, 0, 0x0000'0603});  // EDX is reserved in version 1
  CpuFeatures f = decode_cpuid(fake);
  EXPECT_EQ(f.perfmon_version, 1);
  EXPECT_EQ(f.gp_counters, 2);
  EXPECT_EQ(f.gp_counter_width, 40);
  EXPECT_EQ(f.fixed_counters, 0);
  EXPECT_EQ(f.fixed_counter_width, 0);
}

TEST(CpuFeatures, AvxStateNeedsXsaveAvxAndXcr0Bits) {
  FakeCpuid fake = intel_like(0x16);
  // Leaf 1 ECX 0x7ffafbff has XSAVE (26), OSXSAVE (27) and AVX (28).
  fake.set(0xd, 0, {0x0000'0207, 0x0000'0340, 0x0000'0a80, 0});
  CpuFeatures f = decode_cpuid(fake);
  EXPECT_TRUE(f.xsave);
  EXPECT_TRUE(f.osxsave);
  EXPECT_TRUE(f.avx);
  EXPECT_EQ(f.xcr0_supported, 0x207u);
  EXPECT_TRUE(avx_state_supported(f));

  // XCR0 without the AVX component (an SSE-only XSAVE implementation).
  fake.set(0xd, 0, {0x0000'0003, 0, 0, 0});
  EXPECT_FALSE(avx_state_supported(decode_cpuid(fake)));

  // No XSAVE: leaf 0xD's mask is ignored, whatever it says.
  fake.set(0xd, 0, {0x0000'0007, 0, 0, 0});
  fake.set(1, 0, {0x0008'06c1, 0x0310'0800, 0x7ffa'fbff & ~(1u << 26), 0xbfeb'fbff});
  CpuFeatures g = decode_cpuid(fake);
  EXPECT_FALSE(g.xsave);
  EXPECT_EQ(g.xcr0_supported, 0u);
  EXPECT_FALSE(avx_state_supported(g));

  // Max leaf below 0xD: not asked for at all.
  FakeCpuid old = intel_like(7);
  old.set(0xd, 0, {0x0000'0007, 0, 0, 0});
  EXPECT_FALSE(avx_state_supported(decode_cpuid(old)));
  EXPECT_EQ(old.queried().count(0xd), 0u);
}

TEST(CpuFeatures, FamilyModelRules) {
  auto decode = [](const char* vendor, uint32_t eax1) {
    CpuidLeaves raw{};
    raw.leaf0.eax = 1;
    std::memcpy(&raw.leaf0.ebx, vendor, 4);
    std::memcpy(&raw.leaf0.edx, vendor + 4, 4);
    std::memcpy(&raw.leaf0.ecx, vendor + 8, 4);
    raw.leaf1.eax = eax1;
    return decode_leaves(raw);
  };
  // AMD Zen 2: base family 0xF + extended 8 = 0x17, model 0x71.
  CpuFeatures zen2 = decode("AuthenticAMD", 0x0087'0f10);
  EXPECT_EQ(zen2.family, 0x17u);
  EXPECT_EQ(zen2.model, 0x71u);
  EXPECT_EQ(zen2.stepping, 0u);
  // AMD family 6 ignores the extended model; Intel family 6 uses it.
  EXPECT_EQ(decode("AuthenticAMD", 0x0001'0621).model, 2u);
  EXPECT_EQ(decode("GenuineIntel", 0x0001'0621).model, 0x12u);
  // Intel family 0xF (NetBurst) uses both; other families neither.
  CpuFeatures p4 = decode("GenuineIntel", 0x0010'0f41);
  EXPECT_EQ(p4.family, 0x10u);
  EXPECT_EQ(p4.model, 4u);
  EXPECT_EQ(decode("GenuineIntel", 0x0ff1'0521).family, 5u);
  EXPECT_EQ(decode("GenuineIntel", 0x0ff1'0521).model, 2u);
  EXPECT_EQ(decode("HygonGenuine", 0x0090'0f00).vendor_id, CpuVendor::kOther);
}

TEST(CpuFeatures, NoExtendedLeaves) {
  // A CPU without 0x8000'0000 answers with unrelated data (here a basic
  // leaf's EAX): treat as no extended leaves, defaults for address sizes.
  FakeCpuid fake;
  fake.set(0, 0, {1, 0x756e'6547, 0x6c65'746e, 0x4965'6e69});
  fake.set(1, 0, {0x0000'0633, 0, 0, 0});
  fake.set(0x8000'0000, 0, {0x0000'0633, 0, 0, 0});
  CpuFeatures f = decode_cpuid(fake);
  EXPECT_EQ(f.max_extended_leaf, 0u);
  EXPECT_FALSE(f.long_mode);
  EXPECT_EQ(f.phys_addr_bits, 36);
  EXPECT_EQ(f.linear_addr_bits, 48);
  EXPECT_EQ(fake.queried().count(0x8000'0001), 0u);
}

}  // namespace
}  // namespace arch
