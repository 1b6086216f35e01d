// Backtrace printing and the final stop for fatal errors.
#include "src/kernel/report.h"

#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/arch/qemu_exit.h"
#include "src/mm/safe_access.h"
#include "src/prof/backtrace.h"
#include "src/sched/thread.h"

namespace kernel {

bool find_any_stack(uint64_t addr, arch::StackInfo* info) {
  if (arch::find_stack(addr, info)) return true;
  sched::ThreadStackInfo t;
  if (!sched::find_current_thread_stack(addr, &t)) return false;
  *info = arch::StackInfo{"thread stack", arch::this_cpu().index, t.lo, t.hi, t.in_guard};
  return true;
}

void print_backtrace(uint64_t rbp) {
  // The frames must stay on the stack `rbp` starts on. A stack find_any_stack
  // does not know (a thread's) is bounded loosely; the reads are probes, so
  // a corrupt chain ends the walk instead of faulting inside the report.
  constexpr uint64_t kUnknownStackSpan = 1 << 20;
  arch::StackInfo info;
  prof::StackBounds stack{rbp, rbp + kUnknownStackSpan};
  if (find_any_stack(rbp, &info)) stack = info.in_guard ? prof::StackBounds{0, 0} : prof::StackBounds{info.lo, info.hi};
  uint64_t pcs[32];
  prof::WalkEnd end;
  size_t n = prof::walk_frames(rbp, stack, pcs, 32, &end, [](uint64_t a) {
    base::Result<uint64_t> v = mm::safe_read64(a);
    return v.ok() ? v.value() : 0;  // 0 ends the chain
  });
  arch::kprint("backtrace:\n");
  for (size_t i = 0; i < n; ++i) arch::kprint("  #{:<2} {:#018x}\n", i, pcs[i]);
  arch::kprint("  ({})\n", prof::walk_end_name(end));
}

void fail_stop() { arch::qemu_exit(arch::ExitCode::kFail); }

}  // namespace kernel
