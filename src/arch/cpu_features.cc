// Bit-level decoding of CPUID leaves into CpuFeatures ([sdm2] CPUID,
// table 3-8; AMD's CPUID specification for the 0x8000'00xx leaves).
#include "src/arch/cpu_features.h"

namespace arch {
namespace {

constexpr bool bit(uint32_t reg, int n) { return (reg >> n) & 1; }
constexpr uint32_t field(uint32_t reg, int lo, int width) { return (reg >> lo) & ((1u << width) - 1); }

void copy_vendor(const CpuidRegs& leaf0, char out[12]) {
  // The vendor string is EBX, EDX, ECX in that order, little-endian.
  const uint32_t parts[3] = {leaf0.ebx, leaf0.edx, leaf0.ecx};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<char>(parts[i] >> (8 * j));
}

}  // namespace

CpuFeatures decode_leaves(const CpuidLeaves& raw) {
  CpuFeatures f{};
  copy_vendor(raw.leaf0, f.vendor);
  if (f.vendor_str() == "GenuineIntel") {
    f.vendor_id = CpuVendor::kIntel;
  } else if (f.vendor_str() == "AuthenticAMD") {
    f.vendor_id = CpuVendor::kAmd;
  } else {
    f.vendor_id = CpuVendor::kOther;
  }
  f.max_basic_leaf = raw.leaf0.eax;
  f.max_extended_leaf = raw.ext0.eax;

  // Family/model/stepping [sdm2] CPUID, "Processor Version Information":
  // the extended family is added only for family 0xF; the extended model
  // is prepended for families 6 and 0xF on Intel, but only for 0xF on AMD.
  const uint32_t a1 = raw.leaf1.eax;
  const uint32_t base_family = field(a1, 8, 4), base_model = field(a1, 4, 4);
  f.stepping = field(a1, 0, 4);
  f.family = base_family == 0xf ? base_family + field(a1, 20, 8) : base_family;
  const bool extended_model = base_family == 0xf || (base_family == 6 && f.vendor_id != CpuVendor::kAmd);
  f.model = extended_model ? (field(a1, 16, 4) << 4) | base_model : base_model;
  f.initial_apic_id = static_cast<uint8_t>(field(raw.leaf1.ebx, 24, 8));

  const uint32_t c1 = raw.leaf1.ecx, d1 = raw.leaf1.edx;
  f.sse2 = bit(d1, 26);
  f.monitor_mwait = bit(c1, 3);
  f.pdcm = bit(c1, 15);
  f.pcid = bit(c1, 17);
  f.x2apic = bit(c1, 21);
  f.tsc_deadline = bit(c1, 24);
  f.xsave = bit(c1, 26);
  f.osxsave = bit(c1, 27);
  f.avx = bit(c1, 28);
  f.hypervisor = bit(c1, 31);

  f.arat = bit(raw.leaf6.eax, 2);

  f.fsgsbase = bit(raw.leaf7.ebx, 0);
  f.avx2 = bit(raw.leaf7.ebx, 5);
  f.smep = bit(raw.leaf7.ebx, 7);
  f.smap = bit(raw.leaf7.ebx, 20);
  f.umip = bit(raw.leaf7.ecx, 2);
  f.la57 = bit(raw.leaf7.ecx, 16);

  // Leaf 0xD exists without XSAVE on some CPUs; its XCR0 mask means
  // nothing then ([sdm2] CPUID, leaf 0DH).
  if (f.xsave) f.xcr0_supported = (uint64_t{raw.leaf_d.edx} << 32) | raw.leaf_d.eax;

  // Leaf 0xA [sdm2] CPUID; [sdm3] 18.2. EDX is defined from version 2 on.
  const uint32_t aa = raw.leaf_a.eax;
  f.perfmon_version = static_cast<uint8_t>(field(aa, 0, 8));
  if (f.perfmon_version != 0) {
    f.gp_counters = static_cast<uint8_t>(field(aa, 8, 8));
    f.gp_counter_width = static_cast<uint8_t>(field(aa, 16, 8));
  }
  if (f.perfmon_version >= 2) {
    f.fixed_counters = static_cast<uint8_t>(field(raw.leaf_a.edx, 0, 5));
    f.fixed_counter_width = static_cast<uint8_t>(field(raw.leaf_a.edx, 5, 8));
  }

  f.tsc_ratio_denominator = raw.leaf15.eax;
  f.tsc_ratio_numerator = raw.leaf15.ebx;
  f.crystal_hz = raw.leaf15.ecx;
  f.base_mhz = field(raw.leaf16.eax, 0, 16);
  f.max_mhz = field(raw.leaf16.ebx, 0, 16);
  f.bus_mhz = field(raw.leaf16.ecx, 0, 16);

  f.nx = bit(raw.ext1.edx, 20);
  f.pages_1g = bit(raw.ext1.edx, 26);
  f.long_mode = bit(raw.ext1.edx, 29);
  f.invariant_tsc = bit(raw.ext7.edx, 8);

  if (f.max_extended_leaf >= 0x8000'0008) {
    f.phys_addr_bits = static_cast<uint8_t>(field(raw.ext8.eax, 0, 8));
    f.linear_addr_bits = static_cast<uint8_t>(field(raw.ext8.eax, 8, 8));
  } else {
    // Without the leaf: 36 physical bits (PAE) [sdm2] CPUID, 48 linear.
    f.phys_addr_bits = 36;
    f.linear_addr_bits = 48;
  }
  return f;
}

}  // namespace arch
