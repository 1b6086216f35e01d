// What this CPU can do, decoded once from CPUID into a plain struct so the
// rest of the kernel tests flags instead of re-issuing CPUID. Templated on
// the CPUID source so host tests decode real dumps (testdata/boot). Leaf and
// bit positions: [sdm2] CPUID (table 3-8), AMD leaves per AMD's CPUID spec.
// Any context (decoding has no side effects); CPUID itself is slow (and
// traps under a hypervisor), so decode at boot and keep the result.
#pragma once

#include "src/arch/x86.h"
#include "src/base/str.h"
#include "src/base/types.h"

namespace arch {

enum class CpuVendor : uint8_t { kOther, kIntel, kAmd };

/// The decoded result. Every field is zero/false when its leaf is beyond
/// the maximum the CPU reports (never the data of some other leaf).
struct CpuFeatures {
  char vendor[12];  // "GenuineIntel", "AuthenticAMD", ...; not NUL-terminated
  CpuVendor vendor_id;
  uint32_t family, model, stepping;  // with the extended-family/model rules applied
  uint32_t max_basic_leaf;
  uint32_t max_extended_leaf;  // 0 if leaf 0x8000'0000 is not implemented
  uint8_t initial_apic_id;     // leaf 1 EBX[31:24]; the x2APIC id may be wider

  // Leaf 1. `osxsave` mirrors CR4.OSXSAVE at the time of decoding (the OS
  // sets it), so it says nothing about what the CPU can do.
  bool sse2, monitor_mwait, pdcm, pcid, x2apic, tsc_deadline, xsave, osxsave, avx, hypervisor;
  // Leaf 6: the APIC timer keeps its rate in deep C-states.
  bool arat;
  // Leaf 7 subleaf 0.
  bool fsgsbase, avx2, smep, smap, umip, la57;
  // Leaf 0x8000'0001 and 0x8000'0007.
  bool long_mode, nx, pages_1g, invariant_tsc;

  // Leaf 0xD subleaf 0 EDX:EAX: the XCR0 bits the CPU supports ([sdm1]
  // 13.2); 0 without XSAVE or leaf 0xD.
  uint64_t xcr0_supported;

  // Leaf 0xA: architectural performance monitoring (0 = none).
  uint8_t perfmon_version, gp_counters, gp_counter_width, fixed_counters, fixed_counter_width;

  // Leaf 0x15: TSC Hz = crystal_hz * numerator / denominator when all are
  // nonzero; crystal_hz 0 means "not enumerated".
  uint32_t tsc_ratio_denominator, tsc_ratio_numerator, crystal_hz;
  // Leaf 0x16, in MHz (0 = not enumerated).
  uint32_t base_mhz, max_mhz, bus_mhz;

  // Leaf 0x8000'0008 (defaults 36 and 48 if absent).
  uint8_t phys_addr_bits, linear_addr_bits;

  base::StrView vendor_str() const { return base::StrView(vendor, 12); }
};

/// XCR0 state components ([sdm1] 13.1): x87 (always set), SSE (XMM) and
/// AVX (the upper halves of the YMM registers).
inline constexpr uint64_t kXcr0X87 = 1u << 0;
inline constexpr uint64_t kXcr0Sse = 1u << 1;
inline constexpr uint64_t kXcr0Avx = 1u << 2;

/// Whether the OS may enable AVX state on this CPU: XSAVE (so CR4.OSXSAVE
/// can be set and XSETBV exists), AVX, and XCR0 able to hold x87|SSE|AVX
/// ([sdm1] 13.3, 14.3). AVX2 code additionally needs `avx2`.
constexpr bool avx_state_supported(const CpuFeatures& f) {
  constexpr uint64_t kNeed = kXcr0X87 | kXcr0Sse | kXcr0Avx;
  return f.xsave && f.avx && (f.xcr0_supported & kNeed) == kNeed;
}

/// The raw registers decode_leaves() needs; all zero for leaves the CPU
/// does not report. Filled by decode_cpuid(), or by hand in tests.
struct CpuidLeaves {
  CpuidRegs leaf0, leaf1, leaf6, leaf7, leaf_d, leaf_a, leaf15, leaf16;
  CpuidRegs ext0, ext1, ext7, ext8;
};

/// Pure decoding of already-read leaves (no CPUID issued).
CpuFeatures decode_leaves(const CpuidLeaves& raw);

/// The CPUID instruction as a source for decode_cpuid (kernel platform).
struct CpuidInsn {
  CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) const { return arch::cpuid(leaf, subleaf); }
};

/// Reads the leaves this struct needs from `src`, which provides
/// `CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf)`, and decodes them.
/// Never asks for a leaf above the reported maximum: CPUs answer those with
/// another leaf's data (QEMU repeats leaf 0xD, Intel the highest basic leaf).
template <typename CpuidSource>
CpuFeatures decode_cpuid(CpuidSource& src) {
  CpuidLeaves raw{};
  raw.leaf0 = src.cpuid(0, 0);
  const uint32_t max = raw.leaf0.eax;
  auto basic = [&](uint32_t leaf, uint32_t subleaf) { return max >= leaf ? src.cpuid(leaf, subleaf) : CpuidRegs{}; };
  raw.leaf1 = basic(1, 0);
  raw.leaf6 = basic(6, 0);
  raw.leaf7 = basic(7, 0);
  raw.leaf_d = basic(0xd, 0);
  raw.leaf_a = basic(0xa, 0);
  raw.leaf15 = basic(0x15, 0);
  raw.leaf16 = basic(0x16, 0);

  raw.ext0 = src.cpuid(0x8000'0000, 0);
  // A CPU without extended leaves answers with unrelated data; a valid
  // maximum is itself an extended leaf number.
  if ((raw.ext0.eax & 0xffff'0000) != 0x8000'0000) raw.ext0 = CpuidRegs{};
  const uint32_t max_ext = raw.ext0.eax;
  auto extended = [&](uint32_t leaf) { return max_ext >= leaf ? src.cpuid(leaf, 0) : CpuidRegs{}; };
  raw.ext1 = extended(0x8000'0001);
  raw.ext7 = extended(0x8000'0007);
  raw.ext8 = extended(0x8000'0008);
  return decode_leaves(raw);
}

}  // namespace arch
