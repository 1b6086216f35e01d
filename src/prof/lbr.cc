// LBR discovery: the per-model table of stack depths and MSR bases ([sdm3]
// 17.4.8 table 17-4 and the sections per microarchitecture; the addresses in
// [sdm4] chapter 2), the record formats of IA32_PERF_CAPABILITIES[5:0]
// ([sdm3] 17.4.8.1), and architectural LBR's CPUID enumeration ([sdm2]
// CPUID leaves 07H and 1CH).
#include "src/prof/lbr.h"

#include "src/base/format.h"

namespace prof {
namespace {

constexpr uint32_t field(uint32_t reg, int lo, int width) { return (reg >> lo) & ((1u << width) - 1); }

// MSR bases. Core 2 and the Atoms before Goldmont keep the stack at
// MSR_LASTBRANCH_0_FROM_IP 0x40 / _TO_IP 0x60; Nehalem and everything after
// at 0x680 / 0x6C0; Skylake adds MSR_LBR_INFO_0 at 0xDC0 ([sdm3] 17.11.1).
constexpr uint32_t kCoreFrom = 0x40, kCoreTo = 0x60;
constexpr uint32_t kNhmFrom = 0x680, kNhmTo = 0x6c0;
constexpr uint32_t kLbrInfo0 = 0xdc0;

// One row of the model table. The sections are those of each
// microarchitecture's "Last Branch, (Call Stack,) Interrupt, and Exception
// Recording" section (numbering: docs/references.md).
struct ModelStack {
  uint8_t depth;
  uint32_t from, to;
  bool select;      // MSR_LBR_SELECT exists
  bool call_stack;  // and has EN_CALLSTACK
};
constexpr ModelStack kCore2{4, kCoreFrom, kCoreTo, false, false};        // [sdm3] 17.5 (Core 2)
constexpr ModelStack kBonnell{8, kCoreFrom, kCoreTo, false, false};      // [sdm3] 17.5 (Atom)
constexpr ModelStack kSilvermont{8, kCoreFrom, kCoreTo, true, false};    // [sdm3] 17.5 (Atom)
constexpr ModelStack kKnightsLanding{8, kNhmFrom, kNhmTo, true, false};  // [sdm3] 17.6 (Xeon Phi)
constexpr ModelStack kNehalem{16, kNhmFrom, kNhmTo, true, false};        // [sdm3] 17.8, 17.9 (Nehalem, Sandy Bridge)
constexpr ModelStack kHaswell{16, kNhmFrom, kNhmTo, true, true};         // [sdm3] 17.10 (Haswell)
constexpr ModelStack kSkylake{32, kNhmFrom, kNhmTo, true, true};         // [sdm3] 17.11 (Skylake)
constexpr ModelStack kGoldmont{32, kNhmFrom, kNhmTo, true, true};        // [sdm3] 17.7 (Goldmont)

// DisplayModel (family 6) to stack: [sdm3] 17.4.8's table "LBR Stack Size
// and TOS Pointer Range" (17-4) and the sections above. Models with
// architectural LBR (Alder Lake, Sapphire Rapids on) never get here.
struct ModelRow {
  uint8_t model;
  const ModelStack* stack;
};
constexpr ModelRow kModels[] = {
    // Core 2: Merom/Conroe, Penryn, Dunnington.
    {0x0f, &kCore2},
    {0x17, &kCore2},
    {0x1d, &kCore2},
    // Atom Bonnell and Saltwell.
    {0x1c, &kBonnell},
    {0x26, &kBonnell},
    {0x27, &kBonnell},
    {0x35, &kBonnell},
    {0x36, &kBonnell},
    // Silvermont, Airmont.
    {0x37, &kSilvermont},
    {0x4a, &kSilvermont},
    {0x4c, &kSilvermont},
    {0x4d, &kSilvermont},
    {0x5a, &kSilvermont},
    {0x5d, &kSilvermont},
    // Xeon Phi Knights Landing, Knights Mill.
    {0x57, &kKnightsLanding},
    {0x85, &kKnightsLanding},
    // Nehalem, Westmere, Sandy Bridge, Ivy Bridge.
    {0x1a, &kNehalem},
    {0x1e, &kNehalem},
    {0x1f, &kNehalem},
    {0x2e, &kNehalem},
    {0x25, &kNehalem},
    {0x2c, &kNehalem},
    {0x2f, &kNehalem},
    {0x2a, &kNehalem},
    {0x2d, &kNehalem},
    {0x3a, &kNehalem},
    {0x3e, &kNehalem},
    // Haswell, Broadwell.
    {0x3c, &kHaswell},
    {0x3f, &kHaswell},
    {0x45, &kHaswell},
    {0x46, &kHaswell},
    {0x3d, &kHaswell},
    {0x47, &kHaswell},
    {0x4f, &kHaswell},
    {0x56, &kHaswell},
    // Skylake, Kaby/Coffee/Comet Lake, Cannon Lake, Ice Lake, Tiger Lake,
    // Rocket Lake.
    {0x4e, &kSkylake},
    {0x5e, &kSkylake},
    {0x55, &kSkylake},
    {0x8e, &kSkylake},
    {0x9e, &kSkylake},
    {0xa5, &kSkylake},
    {0xa6, &kSkylake},
    {0x66, &kSkylake},
    {0x7d, &kSkylake},
    {0x7e, &kSkylake},
    {0x6a, &kSkylake},
    {0x6c, &kSkylake},
    {0x8c, &kSkylake},
    {0x8d, &kSkylake},
    {0xa7, &kSkylake},
    // Goldmont, Goldmont Plus, Tremont.
    {0x5c, &kGoldmont},
    {0x5f, &kGoldmont},
    {0x7a, &kGoldmont},
    {0x86, &kGoldmont},
    {0x96, &kGoldmont},
    {0x9c, &kGoldmont},
};

constexpr bool depths_are_powers_of_two() {
  for (const ModelRow& r : kModels)
    if (r.stack->depth == 0 || (r.stack->depth & (r.stack->depth - 1)) != 0 || r.stack->depth > kMaxLbrDepth)
      return false;
  return true;
}
// read() wraps the TOS index with depth - 1.
static_assert(depths_are_powers_of_two());

// The formats of [sdm3] 17.4.8.1 (17.7 and 17.11.1 for 000110B-000111B).
// With LBR_INFO the flags move there and FROM/TO hold sign-extended
// addresses (17.11), but Skylakes with TSX off read FROM bits 62:61 as zero
// (Linux's LBR_FROM quirk), so those addresses are rebuilt from the low 57
// bits: canonical under both 4- and 5-level paging.
constexpr LbrFormat kFormats[] = {
    {0, MispredictAt::kNowhere, 32, 32, false},    // 32-bit offsets
    {1, MispredictAt::kNowhere, 64, 64, false},    // 64-bit linear addresses
    {2, MispredictAt::kNowhere, 64, 64, false},    // 64-bit effective addresses
    {3, MispredictAt::kFromBit63, 63, 64, false},  // FROM[63] MISPRED
    {4, MispredictAt::kFromBit63, 61, 64, false},  // FROM[63] MISPRED, [62] IN_TSX, [61] TSX_ABORT
    {5, MispredictAt::kInfoBit63, 57, 57, true},   // flags and cycles in MSR_LBR_INFO_x
    {6, MispredictAt::kFromBit63, 63, 48, false},  // Goldmont: TO[63:48] cycle count
    {7, MispredictAt::kInfoBit63, 57, 57, true},   // Goldmont Plus: MSR_LBR_INFO_x
};

LbrInfo none(LbrAbsence why, uint8_t family = 0, uint8_t model = 0) {
  LbrInfo info{};
  info.absence = why;
  info.family = family;
  info.model = model;
  return info;
}

const char* absence_text(LbrAbsence a) {
  switch (a) {
    case LbrAbsence::kPresent:
      return "present";
    case LbrAbsence::kNotIntel:
      return "not an Intel CPU";
    case LbrAbsence::kNoPdcm:
      return "no IA32_PERF_CAPABILITIES: CPUID.1:ECX.PDCM clear";
    case LbrAbsence::kUnknownModel:
      return "model not in the LBR table";
    case LbrAbsence::kUnknownFormat:
      return "unknown LBR record format";
    case LbrAbsence::kHypervisorNoLbr:
      return "hypervisor reports LBR format 0: no LBR MSRs";
    case LbrAbsence::kArchNoDepth:
      return "architectural LBR without a depth";
  }
  return "?";
}

}  // namespace

base::Result<LbrFormat> lbr_format(uint8_t code) {
  if (code >= sizeof kFormats / sizeof kFormats[0]) return base::Error::kUnsupported;
  return kFormats[code];
}

LbrInfo lbr_for_model(uint8_t model) {
  LbrInfo info{};
  info.family = 6;
  info.model = model;
  for (const ModelRow& r : kModels) {
    if (r.model != model) continue;
    info.kind = LbrKind::kModelSpecific;
    info.depth = r.stack->depth;
    info.from_msr = r.stack->from;
    info.to_msr = r.stack->to;
    info.select_msr = r.stack->select ? kMsrLbrSelect : 0;
    info.call_stack = r.stack->call_stack;
    return info;
  }
  return info;
}

bool lbr_needs_perf_capabilities(arch::CpuVendor vendor, const arch::CpuidRegs& leaf1, const arch::CpuidRegs& leaf7) {
  return vendor == arch::CpuVendor::kIntel && !field(leaf7.edx, 19, 1) && field(leaf1.ecx, 15, 1);
}

LbrInfo decode_lbr(arch::CpuVendor vendor, const arch::CpuidRegs& leaf1, const arch::CpuidRegs& leaf7,
                   const arch::CpuidRegs& leaf_a, const arch::CpuidRegs& leaf_1c, uint64_t perf_capabilities) {
  if (vendor != arch::CpuVendor::kIntel) return none(LbrAbsence::kNotIntel);

  // DisplayFamily / DisplayModel ([sdm2] CPUID leaf 01H): the extended
  // model counts for families 6 and 15, the extended family for 15.
  uint32_t family = field(leaf1.eax, 8, 4), model = field(leaf1.eax, 4, 4);
  if (family == 0xf) family += field(leaf1.eax, 20, 8);
  if (family == 6 || family == 0xf) model |= field(leaf1.eax, 16, 4) << 4;
  const auto fam = static_cast<uint8_t>(family), mod = static_cast<uint8_t>(model);

  // The perfmon version (leaf 0AH EAX[7:0]) decides the freeze: none
  // before 2, the legacy one from 2, the streamlined one from 4.
  const uint32_t perfmon = field(leaf_a.eax, 0, 8);

  // Architectural LBR (CPUID.(7,0):EDX[19]), [sdm2] CPUID leaf 1CH: EAX[7:0]
  // bit n says a depth of 8 * (n + 1) is supported (the deepest is used);
  // EBX[0] CPL filtering, EBX[1] branch filtering, EBX[2] call-stack mode;
  // ECX[0] the mispredict bit in IA32_LBR_x_INFO[63].
  if (field(leaf7.edx, 19, 1)) {
    const uint32_t depths = field(leaf_1c.eax, 0, 8);
    if (depths == 0) return none(LbrAbsence::kArchNoDepth, fam, mod);
    LbrInfo info = none(LbrAbsence::kPresent, fam, mod);
    info.kind = LbrKind::kArchitectural;
    info.depth = static_cast<uint8_t>(8 * (32 - __builtin_clz(depths)));
    info.format = {0, field(leaf_1c.ecx, 0, 1) ? MispredictAt::kInfoBit63 : MispredictAt::kNowhere, 64, 64, true};
    info.from_msr = kIa32Lbr0FromIp;
    info.to_msr = kIa32Lbr0ToIp;
    info.info_msr = kIa32Lbr0Info;
    info.cpl_filter = field(leaf_1c.ebx, 0, 1);
    info.branch_filter = field(leaf_1c.ebx, 1, 1);
    info.call_stack = field(leaf_1c.ebx, 2, 1);
    // Without DEBUGCTL.LBR there is no legacy unfreeze: freeze only with
    // the streamlined protocol.
    info.freeze_on_pmi = info.streamlined_freeze = perfmon >= 4;
    return info;
  }

  if (!field(leaf1.ecx, 15, 1)) return none(LbrAbsence::kNoPdcm, fam, mod);
  LbrInfo info = family == 6 ? lbr_for_model(mod) : LbrInfo{};
  if (info.kind == LbrKind::kNone) return none(LbrAbsence::kUnknownModel, fam, mod);

  const auto code = static_cast<uint8_t>(perf_capabilities & 0x3f);
  // Under a hypervisor (CPUID.1:ECX[31]) format 0 is what one that does
  // not virtualise the LBR MSRs reports (KVM does); touching them would
  // #GP. Bare-metal CPUs of the table report a 64-bit format.
  if (code == 0 && field(leaf1.ecx, 31, 1)) return none(LbrAbsence::kHypervisorNoLbr, fam, mod);
  base::Result<LbrFormat> format = lbr_format(code);
  if (!format.ok()) {
    LbrInfo bad = none(LbrAbsence::kUnknownFormat, fam, mod);
    bad.format.code = code;
    return bad;
  }
  info.format = format.value();
  // Knights Landing and Knights Mill report format 1 but do record the
  // mispredict flag in FROM[63] (Linux's perf corrects the same).
  if ((mod == 0x57 || mod == 0x85) && code == 1) info.format = kFormats[3];
  info.info_msr = info.format.info ? kLbrInfo0 : 0;
  info.absence = LbrAbsence::kPresent;
  info.cpl_filter = info.branch_filter = info.select_msr != 0;
  info.freeze_on_pmi = perfmon >= 2;
  info.streamlined_freeze = perfmon >= 4;
  return info;
}

size_t describe(const LbrInfo& lbr, char* buf, size_t cap) {
  switch (lbr.kind) {
    case LbrKind::kModelSpecific:
    case LbrKind::kArchitectural: {
      const char* mispredict = lbr.format.mispredict == MispredictAt::kFromBit63   ? ", mispredict in FROM[63]"
                               : lbr.format.mispredict == MispredictAt::kInfoBit63 ? ", mispredict in LBR_INFO"
                                                                                   : ", no mispredict bit";
      const char* call_stack = lbr.call_stack ? ", call stack" : "";
      if (lbr.kind == LbrKind::kArchitectural)
        return base::format_to(buf, cap, "architectural, {} entries{}{}", lbr.depth, mispredict, call_stack);
      return base::format_to(buf, cap, "{} entries, format {}{}{}", lbr.depth, lbr.format.code, mispredict, call_stack);
    }
    case LbrKind::kNone:
      break;
  }
  if (lbr.absence == LbrAbsence::kUnknownModel)
    return base::format_to(buf, cap, "none ({:02X}_{:02X}H: {})", lbr.family, lbr.model, absence_text(lbr.absence));
  if (lbr.absence == LbrAbsence::kUnknownFormat)
    return base::format_to(buf, cap, "none ({} {})", absence_text(lbr.absence), lbr.format.code);
  return base::format_to(buf, cap, "none ({})", absence_text(lbr.absence));
}

}  // namespace prof
