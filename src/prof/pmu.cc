// Bit-level PMU decoding ([sdm2] CPUID leaf 0AH, [sdm3] 18.2; [apm2] 13.2
// and CPUID Fn8000_0001) and the event encodings ([sdm3] 18.2.1.2
// table 18-1; [ppr17h] core performance events).
#include "src/prof/pmu.h"

#include "src/base/format.h"

namespace prof {
namespace {

constexpr uint32_t field(uint32_t reg, int lo, int width) { return (reg >> lo) & ((1u << width) - 1); }

// Architectural events, [sdm3] 18.2.1.2 table 18-1: the index is the
// leaf 0xA EBX bit that says "not available".
struct ArchEvent {
  int ebx_bit;
  EventCode code;
};
constexpr ArchEvent kIntelEvents[kEventCount] = {
    {0, {0x3c, 0x00}},  // UnHalted Core Cycles
    {1, {0xc0, 0x00}},  // Instructions Retired
    {6, {0xc5, 0x00}},  // Branch Misses Retired
    {4, {0x2e, 0x41}},  // LLC Misses
};

// AMD core events, the same numbers from K7 through Zen ([ppr17h]
// PMCx076 "Cycles not in Halt", PMCx0C0 "Retired Instructions", PMCx0C3
// "Retired Branch Instructions Mispredicted"). The last-level cache is
// counted by the L3 PMCs (a separate MSR block) on Zen, not by the core
// counters, so LLC misses are unavailable here.
constexpr EventCode kAmdCycles{0x076, 0x00}, kAmdInstructions{0x0c0, 0x00}, kAmdBranchMisses{0x0c3, 0x00};

// Both AMD counter kinds are 48 bits wide ([apm2] 13.2).
constexpr uint8_t kAmdCounterWidth = 48;

PmuInfo none(const char* why) {
  PmuInfo p{};
  p.none_reason = why;
  return p;
}

}  // namespace

PmuInfo decode_pmu(arch::CpuVendor vendor, const arch::CpuidRegs& leaf1, const arch::CpuidRegs& leaf_a,
                   const arch::CpuidRegs& ext1) {
  PmuInfo p{};
  if (vendor == arch::CpuVendor::kIntel) {
    p.version = static_cast<uint8_t>(field(leaf_a.eax, 0, 8));
    const uint32_t gp = field(leaf_a.eax, 8, 8);
    if (p.version == 0) return none("CPUID.0AH reports architectural perfmon version 0");
    if (gp == 0) return none("CPUID.0AH reports no general-purpose counters");
    p.kind = PmuKind::kIntelArch;
    p.gp_counters = static_cast<uint8_t>(gp < kMaxCounters ? gp : kMaxCounters);
    p.gp_width = static_cast<uint8_t>(field(leaf_a.eax, 16, 8));
    // EDX (fixed counters) is defined from version 2 on ([sdm2] CPUID 0AH).
    // Some v2 parts (Core 2) report 0 fixed counters there; take it as is.
    if (p.version >= 2) {
      p.fixed_counters = static_cast<uint8_t>(field(leaf_a.edx, 0, 5));
      p.fixed_width = static_cast<uint8_t>(field(leaf_a.edx, 5, 8));
    }
    // EBX bit i set = event i unavailable; bits at or beyond the length in
    // EAX[31:24] are not enumerated, so those events are unavailable too.
    const uint32_t len = field(leaf_a.eax, 24, 8);
    const uint32_t beyond = len >= 32 ? 0 : ~((1u << len) - 1);
    p.unavailable_arch_events = leaf_a.ebx | beyond;
    p.freeze_on_pmi = p.version >= 2;
    return p;
  }
  if (vendor == arch::CpuVendor::kAmd) {
    // CPUID Fn8000_0001 ECX bit 23 PerfCtrExtCore: six counters at
    // 0xC001'0200 ([apm2] 13.2). Without it every AMD64 CPU has the four
    // K7 counters -- except a virtual CPU: QEMU TCG and many hypervisors
    // report an AMD vendor without bit 23 and give counters that do not
    // count, so under a hypervisor (leaf 1 ECX bit 31) no PMU is assumed.
    if (field(ext1.ecx, 23, 1)) {
      p.kind = PmuKind::kAmdCore;
      p.gp_counters = 6;
    } else if (!field(leaf1.ecx, 31, 1)) {
      p.kind = PmuKind::kAmdLegacy;
      p.gp_counters = 4;
    } else {
      return none(
          "an AMD CPU under a hypervisor (CPUID.01H:ECX[31]) without core counters (CPUID.80000001H:ECX[23] "
          "clear)");
    }
    p.gp_width = kAmdCounterWidth;
    return p;
  }
  return none("neither an Intel nor an AMD CPU");
}

base::Result<EventCode> event_code(const PmuInfo& pmu, Event e) {
  const int i = static_cast<int>(e);
  switch (pmu.kind) {
    case PmuKind::kNone:
      return base::Error::kUnsupported;
    case PmuKind::kIntelArch:
      if ((pmu.unavailable_arch_events >> kIntelEvents[i].ebx_bit) & 1) return base::Error::kUnsupported;
      return kIntelEvents[i].code;
    case PmuKind::kAmdCore:
    case PmuKind::kAmdLegacy:
      switch (e) {
        case Event::kCycles:
          return kAmdCycles;
        case Event::kInstructions:
          return kAmdInstructions;
        case Event::kBranchMisses:
          return kAmdBranchMisses;
        case Event::kLlcMisses:
          return base::Error::kUnsupported;
      }
  }
  return base::Error::kUnsupported;
}

uint64_t max_reload(const PmuInfo& pmu) {
  if (pmu.kind == PmuKind::kNone || pmu.gp_width < 2) return 0;
  const uint64_t half = uint64_t{1} << (pmu.gp_width - 1);
  if (pmu.kind == PmuKind::kIntelArch) return (half < (uint64_t{1} << 31) ? half : uint64_t{1} << 31) - 1;
  return half - 1;
}

size_t describe(const PmuInfo& pmu, char* buf, size_t cap) {
  switch (pmu.kind) {
    case PmuKind::kNone:
      return base::format_to(buf, cap, "none");
    case PmuKind::kIntelArch:
      return base::format_to(buf, cap, "intel v{}, {} general {}-bit + {} fixed", pmu.version, pmu.gp_counters,
                             pmu.gp_width, pmu.fixed_counters);
    case PmuKind::kAmdCore:
      return base::format_to(buf, cap, "amd core, {} general {}-bit", pmu.gp_counters, pmu.gp_width);
    case PmuKind::kAmdLegacy:
      return base::format_to(buf, cap, "amd legacy k7, {} general {}-bit", pmu.gp_counters, pmu.gp_width);
  }
  return base::format_to(buf, cap, "none");
}

}  // namespace prof
