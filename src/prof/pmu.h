// PMU discovery: which performance counters this CPU has (Intel architectural
// perfmon, AMD core or legacy K7 counters, or none) and how each profiling
// event is encoded there. Any context: decode once at boot, keep the result.
#pragma once

#include "src/arch/cpu_features.h"
#include "src/arch/x86.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace prof {

/// The kind of counters, which decides the MSRs and the overflow protocol.
enum class PmuKind : uint8_t {
  kNone,
  kIntelArch,  // [sdm3] 18.2: IA32_PERFEVTSELx/IA32_PMCx (+ global MSRs from v2)
  kAmdCore,    // [apm2] 13.2: PERF_CTL/PERF_CTR at 0xC001'0200, six counters
  kAmdLegacy,  // [apm2] 13.2: the K7 PerfEvtSel/PerfCtr 0xC001'0000/0004, four
};

/// What the sampler can count.
enum class Event : uint8_t { kCycles, kInstructions, kBranchMisses, kLlcMisses };
inline constexpr int kEventCount = 4;

/// The most general-purpose counters tracked (Intel reports up to 8 per
/// logical CPU with Hyper-Threading off; more are ignored).
inline constexpr uint8_t kMaxCounters = 8;

/// The decoded PMU.
struct PmuInfo {
  PmuKind kind;
  uint8_t version;         // Intel architectural perfmon version (0 on AMD)
  uint8_t gp_counters;     // general-purpose counters usable (<= kMaxCounters)
  uint8_t gp_width;        // their width in bits
  uint8_t fixed_counters;  // Intel fixed-function counters (v2+)
  uint8_t fixed_width;
  /// Intel leaf 0xA EBX bits of the architectural events this CPU lacks,
  /// with the events beyond the EBX length (EAX[31:24]) added.
  uint32_t unavailable_arch_events;
  /// IA32_DEBUGCTL.FREEZE_PERFMON_ON_PMI and the global status/ack MSRs
  /// exist (Intel v2+); without them the PMI handler stops and restarts
  /// each counter itself.
  bool freeze_on_pmi;
  /// Why kind is kNone, naming the CPUID bits that said so (a static
  /// string for messages such as `prof start`'s refusal); null otherwise.
  const char* none_reason;
};

/// An event's encoding in the event-select register: the event number
/// (AMD: up to 12 bits) and the unit mask.
struct EventCode {
  uint16_t event;
  uint8_t umask;
  bool operator==(const EventCode&) const = default;
};

/// Decodes the PMU from already-read leaves: leaf 1 (for the hypervisor
/// bit), leaf 0xA (zeros if beyond the maximum) and 0x8000'0001 (likewise).
PmuInfo decode_pmu(arch::CpuVendor vendor, const arch::CpuidRegs& leaf1, const arch::CpuidRegs& leaf_a,
                   const arch::CpuidRegs& ext1);

/// How `e` is encoded on this PMU; kUnsupported without a PMU or when the
/// CPU reports the event unavailable (Intel EBX) or has no core event for
/// it (AMD LLC misses).
base::Result<EventCode> event_code(const PmuInfo& pmu, Event e);

/// The largest reload (events per sample) a counter of this PMU takes: a
/// general counter written through IA32_PMCx takes only bits 31:0 and
/// sign-extends bit 31 ([sdm3] 18.2.1.1), and the freeze-less handler
/// detects overflow by the counter's top bit, so reloads stay below half
/// the counter range. 0 without a PMU.
uint64_t max_reload(const PmuInfo& pmu);

/// "none", "intel v4, 4 general 48-bit + 3 fixed", "amd core, 6 general
/// 48-bit": one line for the boot log. Writes at most `cap` bytes with a
/// NUL; returns the length.
size_t describe(const PmuInfo& pmu, char* buf, size_t cap);

/// Reads the leaves decode_pmu needs from `src` (`CpuidRegs cpuid(leaf,
/// subleaf)`), never a leaf above the reported maximum (CPUs answer those
/// with another leaf's data).
template <typename CpuidSource>
PmuInfo discover_pmu(const CpuidSource& src) {
  const arch::CpuidRegs leaf0 = src.cpuid(0, 0);
  arch::CpuVendor vendor = arch::CpuVendor::kOther;
  // "GenuineIntel" / "AuthenticAMD" as EBX ("Genu" / "Auth") and ECX.
  if (leaf0.ebx == 0x756e'6547 && leaf0.ecx == 0x6c65'746e) vendor = arch::CpuVendor::kIntel;
  if (leaf0.ebx == 0x6874'7541 && leaf0.ecx == 0x444d'4163) vendor = arch::CpuVendor::kAmd;
  const arch::CpuidRegs leaf1 = leaf0.eax >= 1 ? src.cpuid(1, 0) : arch::CpuidRegs{};
  const arch::CpuidRegs leaf_a = leaf0.eax >= 0xa ? src.cpuid(0xa, 0) : arch::CpuidRegs{};
  const arch::CpuidRegs ext0 = src.cpuid(0x8000'0000, 0);
  const bool has_ext1 = (ext0.eax & 0xffff'0000) == 0x8000'0000 && ext0.eax >= 0x8000'0001;
  const arch::CpuidRegs ext1 = has_ext1 ? src.cpuid(0x8000'0001, 0) : arch::CpuidRegs{};
  return decode_pmu(vendor, leaf1, leaf_a, ext1);
}

}  // namespace prof
