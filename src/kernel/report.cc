// Backtrace printing and the final stop for fatal errors.
#include "src/kernel/report.h"

#include "src/arch/qemu_exit.h"
#include "src/kernel/console.h"
#include "src/kernel/stacks.h"
#include "src/prof/backtrace.h"

namespace kernel {

void print_backtrace(uint64_t rbp) {
  // The frames must stay on the stack `rbp` starts on (per-thread stacks
  // join find_stack with sched).
  StackInfo info;
  prof::StackBounds stack{0, 0};
  if (find_stack(rbp, &info) && !info.in_guard) stack = prof::StackBounds{info.lo, info.hi};
  uint64_t pcs[32];
  prof::WalkEnd end;
  size_t n = prof::walk_frames(rbp, stack, pcs, 32, &end,
                               [](uint64_t a) { return *reinterpret_cast<const uint64_t*>(a); });
  kprint("backtrace:\n");
  for (size_t i = 0; i < n; ++i) kprint("  #{:<2} {:#018x}\n", i, pcs[i]);
  kprint("  ({})\n", prof::walk_end_name(end));
}

void fail_stop() { arch::qemu_exit(arch::ExitCode::kFail); }

}  // namespace kernel
