// See interrupted_mode.h.
#include "src/prof/interrupted_mode.h"

#include "src/arch/trap.h"
#include "src/sched/sched_cpu.h"

namespace prof {

SampleMode interrupted_mode(const arch::PerCpu& cpu, const uint64_t* pcs, size_t n) {
  if ((cpu.sched_no_block & sched::kNoBlockIdle) != 0) return SampleMode::kIdle;
  const uint64_t trap_return = reinterpret_cast<uint64_t>(trap_common_return);
  for (size_t i = 1; i < n; ++i)
    if (pcs[i] == trap_return) return SampleMode::kInterrupt;
  return SampleMode::kThread;
}

PcKind unwound_pc_kind(const uint64_t* pcs, size_t i) {
  const uint64_t trap_return = reinterpret_cast<uint64_t>(trap_common_return);
  return i == 0 || pcs[i - 1] == trap_return ? PcKind::kInstruction : PcKind::kReturnAddress;
}

PcKind frame_walk_pc_kind(const uint64_t* pcs, size_t i) {
  const uint64_t trap_return = reinterpret_cast<uint64_t>(trap_common_return);
  return i > 0 && pcs[i - 1] == trap_return ? PcKind::kInstruction : PcKind::kReturnAddress;
}

}  // namespace prof
