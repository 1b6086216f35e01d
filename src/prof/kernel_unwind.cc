// See kernel_unwind.h.
#include "src/prof/kernel_unwind.h"

#include "src/arch/percpu.h"
#include "src/arch/trap.h"
#include "src/prof/unwind.h"
#include "src/sched/thread.h"

namespace prof {
namespace {

// Why this is NMI-safe. arch::find_stack is address arithmetic over static
// arrays. sched::find_current_thread_stack reads this CPU's block and the
// running thread's descriptor, no lock: the running thread's stack cannot
// be freed under it (a thread is claimed through on_cpu before it becomes
// current, and released only once off its CPU). An NMI between the switch's
// set_current(next) and its move to next's stack finds the current thread
// to be next while the interrupted RBP lies on prev's stack: that RBP is
// then on no known stack and the walk ends there, reading nothing of it.
auto kernel_env() {
  return UnwindEnv{[](uint64_t addr, StackBounds* out) { return kernel_stack_bounds(addr, out); },
                   // Only called inside a known stack's usable part, which is mapped.
                   [](uint64_t addr) { return *reinterpret_cast<const volatile uint64_t*>(addr); },
                   reinterpret_cast<uint64_t>(trap_common_return)};
}

}  // namespace

bool find_any_stack(uint64_t addr, arch::StackInfo* info) {
  if (arch::find_stack(base::VirtAddr(addr), info)) return true;
  sched::ThreadStackInfo t;
  if (!sched::find_current_thread_stack(addr, &t)) return false;
  *info = arch::StackInfo{"thread stack", arch::this_cpu().index.value, t.lo, t.hi, t.in_guard};
  return true;
}

bool kernel_stack_bounds(uint64_t addr, StackBounds* out) {
  arch::StackInfo info;
  if (!find_any_stack(addr, &info) || info.in_guard) return false;
  *out = StackBounds{info.lo, info.hi};
  return true;
}

size_t unwind_from_trap(const arch::TrapFrame& f, uint64_t* pcs, size_t max, WalkEnd* end) {
  return unwind_trap(kernel_env(), f, pcs, max, end);
}

size_t unwind_from_frame(uint64_t rbp, uint64_t* pcs, size_t max, WalkEnd* end) {
  return unwind_frames(kernel_env(), rbp, pcs, 0, max, end);
}

}  // namespace prof
