// See exceptions.h.
#include "src/arch/exceptions.h"

#include "src/arch/console.h"
#include "src/arch/fixup.h"
#include "src/arch/trap.h"

namespace arch {
namespace {

constinit uint64_t breakpoints = 0;
constinit uint64_t fixups = 0;

// #PF and #GP: a probe instruction resumes at its fixup; anything else is
// reported.
void on_fault(TrapFrame& f) {
  if (uint64_t resume = find_fixup(f.rip)) {
    __atomic_fetch_add(&fixups, 1, __ATOMIC_RELAXED);
    f.rip = resume;
    return;
  }
  report_unhandled_trap(f);
}

void on_breakpoint(TrapFrame& f) {
  __atomic_fetch_add(&breakpoints, 1, __ATOMIC_RELAXED);
  // RIP already points past the one-byte INT3 [sdm3] 6.5 (trap-class).
  kprint("breakpoint at {:#018x}, resuming\n", f.rip - 1);
}

}  // namespace

void exceptions_init() {
  set_trap_handler(kVectorBreakpoint, on_breakpoint);
  set_trap_handler(kVectorPageFault, on_fault);
  set_trap_handler(kVectorGeneralProtection, on_fault);
}

uint64_t breakpoint_count() { return __atomic_load_n(&breakpoints, __ATOMIC_RELAXED); }

uint64_t fixup_count() { return __atomic_load_n(&fixups, __ATOMIC_RELAXED); }

}  // namespace arch
