// Last branch records: which LBR stack this CPU has (model-specific from the
// family/model and IA32_PERF_CAPABILITIES, architectural from CPUID 0x1C, or
// none and why), and LbrStack, which enables, filters, unfreezes and reads
// it. Templated on the CPUID and MSR providers so host tests use fakes.
#pragma once

#include "src/arch/cpu_features.h"
#include "src/arch/x86.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/prof/pmc.h"

namespace prof {

// ---------------------------------------------------------------------------
// Layout: MSRs and their bits.

/// IA32_PERF_CAPABILITIES ([sdm3] 17.4.8.1, [sdm4] table 2-2): bits 5:0 name the
/// LBR record format. It exists only when CPUID.1:ECX.PDCM (bit 15) is set.
inline constexpr uint32_t kIa32PerfCapabilities = 0x345;
/// IA32_DEBUGCTL's LBR flag ([sdm3] 17.4.1) starts recording;
/// FREEZE_LBRS_ON_PMI (kDebugctlFreezeLbrsOnPmi, pmc.h) stops it at a PMI so
/// the handler reads the branches that led there, not its own. That bit
/// exists only with PDCM and perfmon version 2 or later ([sdm4] table 2-2):
/// setting it elsewhere is a reserved-bit #GP.
inline constexpr uint64_t kDebugctlLbr = uint64_t{1} << 0;
/// MSR_LASTBRANCH_TOS: the index of the newest record, on every family
/// this module drives ([sdm3] 17.4.8; [sdm4] chapter 2, per family).
inline constexpr uint32_t kMsrLastbranchTos = 0x1c9;
/// MSR_LBR_SELECT: branch filter, from Nehalem and Silvermont on
/// ([sdm3] 17.8.2, 17.10; [sdm4] chapter 2, per family).
inline constexpr uint32_t kMsrLbrSelect = 0x1c8;
/// MSR_LBR_SELECT bits ([sdm3] 17.8.2 for bits 8:0, 17.10 for bit 9). A set
/// bit *suppresses* that kind of branch, except EN_CALLSTACK, which turns
/// the stack into a call stack (returns pop their call).
inline constexpr uint64_t kLbrSelectCplEq0 = uint64_t{1} << 0;       // not in ring 0
inline constexpr uint64_t kLbrSelectCplNeq0 = uint64_t{1} << 1;      // not in rings 1-3
inline constexpr uint64_t kLbrSelectJcc = uint64_t{1} << 2;          // conditional branches
inline constexpr uint64_t kLbrSelectNearRelCall = uint64_t{1} << 3;  // near relative calls
inline constexpr uint64_t kLbrSelectNearIndCall = uint64_t{1} << 4;  // near indirect calls
inline constexpr uint64_t kLbrSelectNearRet = uint64_t{1} << 5;      // near returns
inline constexpr uint64_t kLbrSelectNearIndJmp = uint64_t{1} << 6;   // near indirect jumps
inline constexpr uint64_t kLbrSelectNearRelJmp = uint64_t{1} << 7;   // near relative jumps
inline constexpr uint64_t kLbrSelectFarBranch = uint64_t{1} << 8;    // far: interrupts, exceptions, IRET
inline constexpr uint64_t kLbrSelectEnCallstack = uint64_t{1} << 9;  // Haswell on
inline constexpr uint64_t kLbrSelectBits = (uint64_t{1} << 10) - 1;

/// The default filter: the kernel's own branches only. User code is not
/// what a kernel profile explains, and far branches are interrupt and
/// exception entries and IRETs -- with them every timer tick would push
/// two records and push out the branches of the code being sampled.
inline constexpr uint64_t kLbrSelectKernelOnly = kLbrSelectCplNeq0 | kLbrSelectFarBranch;

/// Architectural LBR's MSRs ([sdm4] table 2-2; [sdm3] chapter "Last Branch
/// Records"): IA32_LBR_CTL replaces DEBUGCTL.LBR and LBR_SELECT,
/// IA32_LBR_DEPTH picks how many of the supported records are used, and
/// record i is IA32_LBR_i_FROM_IP / _TO_IP / _INFO, record 0 the newest
/// (there is no TOS).
inline constexpr uint32_t kIa32LbrCtl = 0x14ce;
inline constexpr uint32_t kIa32LbrDepth = 0x14cf;
inline constexpr uint32_t kIa32Lbr0FromIp = 0x1500;
inline constexpr uint32_t kIa32Lbr0ToIp = 0x1600;
inline constexpr uint32_t kIa32Lbr0Info = 0x1200;

/// IA32_LBR_CTL bits: enable, record in ring 0 (OS) / rings 1-3 (USR),
/// call-stack mode, and the branch types to record -- a set bit *records*,
/// the opposite of LBR_SELECT.
inline constexpr uint64_t kLbrCtlLbrEn = uint64_t{1} << 0;
inline constexpr uint64_t kLbrCtlOs = uint64_t{1} << 1;
inline constexpr uint64_t kLbrCtlUsr = uint64_t{1} << 2;
inline constexpr uint64_t kLbrCtlCallStack = uint64_t{1} << 3;
inline constexpr uint64_t kLbrCtlJcc = uint64_t{1} << 16;
inline constexpr uint64_t kLbrCtlNearRelJmp = uint64_t{1} << 17;
inline constexpr uint64_t kLbrCtlNearIndJmp = uint64_t{1} << 18;
inline constexpr uint64_t kLbrCtlNearRelCall = uint64_t{1} << 19;
inline constexpr uint64_t kLbrCtlNearIndCall = uint64_t{1} << 20;
inline constexpr uint64_t kLbrCtlNearRet = uint64_t{1} << 21;
inline constexpr uint64_t kLbrCtlOtherBranch = uint64_t{1} << 22;  // far branches, interrupts, ...

/// The IA32_LBR_CTL value for an LBR_SELECT-style `select`, so one filter
/// vocabulary serves both kinds. The branch-type bits are written only
/// where CPUID.1CH:EBX[1] says the filter exists (else every type is
/// recorded).
constexpr uint64_t lbr_ctl_value(uint64_t select, bool branch_filter) {
  uint64_t v = kLbrCtlLbrEn;
  if (!(select & kLbrSelectCplEq0)) v |= kLbrCtlOs;
  if (!(select & kLbrSelectCplNeq0)) v |= kLbrCtlUsr;
  if (select & kLbrSelectEnCallstack) v |= kLbrCtlCallStack;
  if (!branch_filter) return v;
  const struct {
    uint64_t suppress, record;
  } kTypes[] = {{kLbrSelectJcc, kLbrCtlJcc},
                {kLbrSelectNearRelJmp, kLbrCtlNearRelJmp},
                {kLbrSelectNearIndJmp, kLbrCtlNearIndJmp},
                {kLbrSelectNearRelCall, kLbrCtlNearRelCall},
                {kLbrSelectNearIndCall, kLbrCtlNearIndCall},
                {kLbrSelectNearRet, kLbrCtlNearRet},
                {kLbrSelectFarBranch, kLbrCtlOtherBranch}};
  for (const auto& t : kTypes)
    if (!(select & t.suppress)) v |= t.record;
  return v;
}
static_assert(lbr_ctl_value(kLbrSelectKernelOnly, true) == 0x3f'0003);
static_assert(lbr_ctl_value(kLbrSelectKernelOnly, false) == 0x3);

// ---------------------------------------------------------------------------
// Discovery.

enum class LbrKind : uint8_t {
  kNone,
  kModelSpecific,  // the MSR stack of [sdm3] 17.4.8, located by family/model
  kArchitectural,  // CPUID.7.0:EDX[19], leaf 0x1C: IA32_LBR_CTL and record 0 newest
};

/// Why a CPU has no usable LBR stack.
enum class LbrAbsence : uint8_t {
  kPresent,
  kNotIntel,         // AMD's LBR (Zen 4 LbrExtV2) and other vendors: not driven
  kNoPdcm,           // no IA32_PERF_CAPABILITIES, so the record format is unknown
  kUnknownModel,     // family/model not in [sdm3] 17.4.8 table 17-4
  kUnknownFormat,    // IA32_PERF_CAPABILITIES[5:0] beyond the formats known
  kHypervisorNoLbr,  // a hypervisor that reports format 0: it offers no LBR MSRs
  kArchNoDepth,      // architectural LBR with no depth in leaf 0x1C
};

/// Where a record's mispredict flag lives ([sdm3] 17.4.8.1, 17.11.1).
enum class MispredictAt : uint8_t { kNowhere, kFromBit63, kInfoBit63 };

/// How the records of one IA32_PERF_CAPABILITIES[5:0] format read
/// (architectural LBR: code 0 with 64-bit addresses and LBR_INFO).
struct LbrFormat {
  uint8_t code;
  MispredictAt mispredict;
  /// Address bits in FROM / TO; an address is sign-extended from its top
  /// bit (the bits above hold flags or a cycle count), except in the 32-bit
  /// format, which holds an offset and is zero-extended. 64: as read.
  uint8_t from_bits, to_bits;
  bool info;  // MSR_LBR_INFO_x exists beside FROM and TO
};

/// The format `code` names, or kUnsupported for codes beyond 000111B.
base::Result<LbrFormat> lbr_format(uint8_t code);

/// The most records a stack has: architectural LBR's 64 (model-specific
/// ones stop at Skylake's 32).
inline constexpr uint8_t kMaxLbrDepth = 64;

/// The decoded LBR facility; every field but select_msr is valid for both
/// kinds of stack.
struct LbrInfo {
  LbrKind kind;
  LbrAbsence absence;
  uint8_t family, model;  // DisplayFamily / DisplayModel ([sdm2] CPUID leaf 01H)
  uint8_t depth;          // records in the stack, a power of two for kModelSpecific
  LbrFormat format;
  uint32_t from_msr, to_msr;  // MSR_LASTBRANCH_0_FROM_IP / _TO_IP
  uint32_t info_msr;          // MSR_LBR_INFO_0, 0 when the format has none
  uint32_t select_msr;        // MSR_LBR_SELECT, 0 on Core 2 and Bonnell Atom (and arch)
  bool cpl_filter;            // kernel-only recording is possible
  bool branch_filter;         // branch types can be left out
  bool call_stack;            // call-stack mode exists
  /// DEBUGCTL.FREEZE_LBRS_ON_PMI exists (perfmon v2 or later).
  bool freeze_on_pmi;
  /// Perfmon v4's streamlined freeze: a PMI sets LBR_FRZ in
  /// IA32_PERF_GLOBAL_STATUS and leaves DEBUGCTL.LBR set; before v4 it
  /// clears DEBUGCTL.LBR ([sdm3] 17.4.7, 17.11.2 "Streamlined
  /// Freeze_LBRs_On_PMI Operation"; LBR_FRZ: [sdm4] table 2-2).
  bool streamlined_freeze;
};

/// The model-specific stack of Intel family 6 model `model`: depth and
/// MSRs, with `format` and `absence` left for the caller. kind kNone for a
/// model not in the table.
LbrInfo lbr_for_model(uint8_t model);

/// Decodes the LBR facility from already-read leaves (all zero where the
/// CPU lacks them) and, for a model-specific stack, the
/// IA32_PERF_CAPABILITIES value (ignored unless PDCM is set).
LbrInfo decode_lbr(arch::CpuVendor vendor, const arch::CpuidRegs& leaf1, const arch::CpuidRegs& leaf7,
                   const arch::CpuidRegs& leaf_a, const arch::CpuidRegs& leaf_1c, uint64_t perf_capabilities);

/// Whether decode_lbr needs IA32_PERF_CAPABILITIES: an Intel CPU without
/// architectural LBR that sets CPUID.1:ECX.PDCM (which promises the MSR).
bool lbr_needs_perf_capabilities(arch::CpuVendor vendor, const arch::CpuidRegs& leaf1, const arch::CpuidRegs& leaf7);

/// "32 entries, format 5, mispredict in LBR_INFO, call stack",
/// "architectural, 32 entries, mispredict in LBR_INFO, call stack" or
/// "none (reason)": one line for the boot log.
/// Writes at most `cap` bytes with a NUL; returns the length.
size_t describe(const LbrInfo& lbr, char* buf, size_t cap);

/// Reads what decode_lbr needs from `cpuid` (never a leaf above the
/// maximum) and IA32_PERF_CAPABILITIES from `msr` only when CPUID promises
/// it: any other RDMSR could #GP. Boot context.
template <typename CpuidSource, typename Msr>
LbrInfo discover_lbr(const CpuidSource& cpuid, Msr& msr) {
  const arch::CpuidRegs leaf0 = cpuid.cpuid(0, 0);
  arch::CpuVendor vendor = arch::CpuVendor::kOther;
  // "GenuineIntel" / "AuthenticAMD" as EBX ("Genu" / "Auth") and ECX.
  if (leaf0.ebx == 0x756e'6547 && leaf0.ecx == 0x6c65'746e) vendor = arch::CpuVendor::kIntel;
  if (leaf0.ebx == 0x6874'7541 && leaf0.ecx == 0x444d'4163) vendor = arch::CpuVendor::kAmd;
  auto basic = [&](uint32_t leaf) { return leaf0.eax >= leaf ? cpuid.cpuid(leaf, 0) : arch::CpuidRegs{}; };
  const arch::CpuidRegs leaf1 = basic(1), leaf7 = basic(7), leaf_a = basic(0xa), leaf_1c = basic(0x1c);
  const uint64_t caps = lbr_needs_perf_capabilities(vendor, leaf1, leaf7) ? msr.read(kIa32PerfCapabilities) : 0;
  return decode_lbr(vendor, leaf1, leaf7, leaf_a, leaf_1c, caps);
}

// ---------------------------------------------------------------------------
// Logic.

/// One branch, as the sampler stores it.
struct LbrEntry {
  uint64_t from, to;
  bool mispredicted;
  bool operator==(const LbrEntry&) const = default;
};

/// Decodes one record's raw FROM, TO and (when the format has it) INFO.
constexpr uint64_t lbr_address(uint64_t raw, uint8_t bits, bool zero_extend) {
  if (bits >= 64) return raw;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  if (zero_extend) return raw & mask;
  const uint64_t sign = uint64_t{1} << (bits - 1);
  return ((raw & mask) ^ sign) - sign;
}
constexpr LbrEntry lbr_decode(const LbrFormat& f, uint64_t from, uint64_t to, uint64_t info) {
  const bool zext = f.code == 0;
  bool mispredicted = false;
  if (f.mispredict == MispredictAt::kFromBit63) mispredicted = (from >> 63) & 1;
  if (f.mispredict == MispredictAt::kInfoBit63) mispredicted = (info >> 63) & 1;
  return {lbr_address(from, f.from_bits, zext), lbr_address(to, f.to_bits, zext), mispredicted};
}
static_assert(lbr_address(0x7fff'8000'0000'1234, 63, false) == 0xffff'8000'0000'1234);
static_assert(lbr_address(0x8000'7fff'ffff'0000, 63, false) == 0x0000'7fff'ffff'0000);
static_assert(lbr_address(0xdead'beef'0040'1000, 32, true) == 0x0040'1000);

/// One CPU's LBR stack, model-specific or architectural. Contexts:
/// enable/disable on the CPU itself with preemption off; unfreeze and read
/// from that CPU's PMI (NMI) handler -- no locks, no allocation, only MSRs
/// and the caller's buffer. Without a stack every call fails with
/// kUnsupported and touches no MSR.
template <typename Msr>
class LbrStack {
 public:
  constexpr LbrStack(const LbrInfo& info, Msr msr) : info_(info), msr_(msr) {}

  /// Starts recording with the filter `select` (kLbrSelect* bits: what to
  /// leave out) and freezing at each PMI where the CPU can (freeze_on_pmi).
  /// Where the CPU has no branch filter (Core 2, Bonnell) every branch is
  /// recorded whatever `select` says. Call-stack mode records without the
  /// freeze: a PMI near a call or return would otherwise move TOS
  /// spuriously (why Linux's perf does the same), so its stack then ends in
  /// the handler's own branches. Errors: kUnsupported (no stack, or an
  /// architectural one without CPL filtering), kInvalidArgument (bits
  /// beyond LBR_SELECT, or EN_CALLSTACK without call-stack mode).
  base::Status enable(uint64_t select = kLbrSelectKernelOnly) {
    if (info_.kind == LbrKind::kNone) return base::Error::kUnsupported;
    if ((select & ~kLbrSelectBits) != 0 || ((select & kLbrSelectEnCallstack) && !info_.call_stack))
      return base::Error::kInvalidArgument;
    if (info_.kind == LbrKind::kArchitectural) return enable_arch(select);
    // The filter first, so no record is taken under the previous one.
    if (info_.select_msr != 0) msr_.write(info_.select_msr, select);
    freezes_ = info_.freeze_on_pmi && (select & kLbrSelectEnCallstack) == 0;
    const uint64_t debugctl = msr_.read(kIa32Debugctl) & ~kDebugctlFreezeLbrsOnPmi;
    msr_.write(kIa32Debugctl, debugctl | kDebugctlLbr | (freezes_ ? kDebugctlFreezeLbrsOnPmi : 0));
    return base::Status::Ok();
  }

  /// Stops recording (the records stay readable).
  base::Status disable() {
    if (info_.kind == LbrKind::kNone) return base::Error::kUnsupported;
    // FREEZE_LBRS_ON_PMI is cleared only where it exists (a reserved bit
    // elsewhere); architectural LBR has no DEBUGCTL.LBR to clear.
    const bool arch = info_.kind == LbrKind::kArchitectural;
    if (arch) msr_.write(kIa32LbrCtl, 0);
    const uint64_t clear = (arch ? 0 : kDebugctlLbr) | (info_.freeze_on_pmi ? kDebugctlFreezeLbrsOnPmi : 0);
    if (clear != 0) msr_.write(kIa32Debugctl, msr_.read(kIa32Debugctl) & ~clear);
    freezes_ = false;
    return base::Status::Ok();
  }

  /// Lets recording resume after a PMI froze it; call after read(). On
  /// perfmon v4 the freeze is IA32_PERF_GLOBAL_STATUS.LBR_FRZ, cleared by
  /// writing it to IA32_PERF_GLOBAL_STATUS_RESET (Pmc::on_pmi's
  /// acknowledgement clears it too, so read the stack before that); before
  /// v4 the PMI cleared DEBUGCTL.LBR, which is set again ([sdm3] 17.4.7).
  /// Touches no MSR when enable() did not arm the freeze.
  base::Status unfreeze() {
    if (info_.kind == LbrKind::kNone) return base::Error::kUnsupported;
    if (!freezes_) return base::Status::Ok();
    if (info_.streamlined_freeze)
      msr_.write(kIa32PerfGlobalOvfCtrl, kGlobalLbrFrz);
    else
      msr_.write(kIa32Debugctl, msr_.read(kIa32Debugctl) | kDebugctlLbr);
    return base::Status::Ok();
  }

  /// Copies the stack into out[0..cap), newest first: model-specific, the
  /// record at TOS, then TOS-1, wrapping at the depth ([sdm3] 17.4.8);
  /// architectural, record 0, 1, ... Records never written (FROM and TO
  /// both 0) are skipped. Returns how many were stored; 0 without a stack.
  size_t read(LbrEntry* out, size_t cap) {
    if (info_.kind == LbrKind::kNone) return 0;
    const bool arch = info_.kind == LbrKind::kArchitectural;
    const uint32_t mask = info_.depth - 1u;  // model-specific depths are powers of two
    const uint32_t tos = arch ? 0 : static_cast<uint32_t>(msr_.read(kMsrLastbranchTos)) & mask;
    size_t n = 0;
    for (uint32_t i = 0; i < info_.depth && n < cap; ++i) {
      const uint32_t idx = arch ? i : (tos - i) & mask;
      const uint64_t from = msr_.read(info_.from_msr + idx);
      const uint64_t to = msr_.read(info_.to_msr + idx);
      const uint64_t rec_info = info_.info_msr != 0 ? msr_.read(info_.info_msr + idx) : 0;
      if (from == 0 && to == 0) continue;
      out[n++] = lbr_decode(info_.format, from, to, rec_info);
    }
    return n;
  }

  const LbrInfo& info() const { return info_; }

 private:
  // Architectural LBR: the depth, then the freeze (so the first PMI after
  // LBREn already freezes), then IA32_LBR_CTL. DEBUGCTL.LBR is not used;
  // its freeze bit is, with the streamlined protocol only (decode_lbr sets
  // freeze_on_pmi only with perfmon v4).
  base::Status enable_arch(uint64_t select) {
    if (!info_.cpl_filter) return base::Error::kUnsupported;  // kernel-only cannot be honoured
    msr_.write(kIa32LbrDepth, info_.depth);
    freezes_ = info_.freeze_on_pmi && (select & kLbrSelectEnCallstack) == 0;
    if (info_.freeze_on_pmi) {
      const uint64_t debugctl = msr_.read(kIa32Debugctl) & ~kDebugctlFreezeLbrsOnPmi;
      msr_.write(kIa32Debugctl, debugctl | (freezes_ ? kDebugctlFreezeLbrsOnPmi : 0));
    }
    msr_.write(kIa32LbrCtl, lbr_ctl_value(select, info_.branch_filter));
    return base::Status::Ok();
  }

  LbrInfo info_;
  Msr msr_;
  bool freezes_ = false;  // enable() set FREEZE_LBRS_ON_PMI
};

}  // namespace prof
