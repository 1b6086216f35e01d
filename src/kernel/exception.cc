// Exception reports (see exception.h).
#include "src/kernel/exception.h"

#include "src/arch/console.h"
#include "src/arch/fixup.h"
#include "src/arch/percpu.h"
#include "src/arch/trap.h"
#include "src/arch/x86.h"
#include "src/kernel/report.h"

namespace kernel {
namespace {

constinit uint64_t breakpoints = 0;
constinit uint64_t fixups = 0;

void print_registers(const arch::TrapFrame& f) {
  arch::kprint("  rax={:#018x} rbx={:#018x} rcx={:#018x}\n", f.rax, f.rbx, f.rcx);
  arch::kprint("  rdx={:#018x} rsi={:#018x} rdi={:#018x}\n", f.rdx, f.rsi, f.rdi);
  arch::kprint("  rbp={:#018x} r8 ={:#018x} r9 ={:#018x}\n", f.rbp, f.r8, f.r9);
  arch::kprint("  r10={:#018x} r11={:#018x} r12={:#018x}\n", f.r10, f.r11, f.r12);
  arch::kprint("  r13={:#018x} r14={:#018x} r15={:#018x}\n", f.r13, f.r14, f.r15);
}

void report_and_stop(arch::TrapFrame& f) {
  arch::StackInfo stack;
  if (f.vector == arch::kVectorPageFault && find_any_stack(arch::read_cr2(), &stack) && stack.in_guard) {
    arch::kprint("\nkernel stack overflow: the {} of cpu {} ([{:#x}, {:#x})) ran into its guard page at {:#x}, rip={:#018x}\n",
           stack.what, stack.cpu, stack.lo, stack.hi, arch::read_cr2(), f.rip);
  }
  arch::kprint("\nEXCEPTION {} ({}) error={:#x} on cpu {}\n", f.vector, arch::vector_name(f.vector), f.error_code,
         arch::this_cpu().index);
  arch::kprint("  rip={:#018x} rsp={:#018x} rflags={:#010x} cs={:#x} ss={:#x}\n", f.rip, f.rsp,
         f.rflags, f.cs, f.ss);
  if (f.vector == arch::kVectorPageFault) {
    // Error code bits [sdm3] 4.7: P, W/R, U/S, RSVD, I/D.
    arch::kprint("  cr2={:#018x} ({} {} access, {})\n", arch::read_cr2(),
           (f.error_code & 4) ? "user" : "kernel", (f.error_code & 16) ? "instruction" : ((f.error_code & 2) ? "write" : "read"),
           (f.error_code & 1) ? "protection violation" : "page not present");
  }
  print_registers(f);
  arch::kprint("  #0  {:#018x} (faulting instruction)\n", f.rip);
  print_backtrace(f.rbp);
  fail_stop();
}

// #PF and #GP: a probe instruction (safe_access) resumes at its fixup;
// anything else is reported.
void on_fault(arch::TrapFrame& f) {
  if (uint64_t resume = arch::find_fixup(f.rip)) {
    __atomic_fetch_add(&fixups, 1, __ATOMIC_RELAXED);
    f.rip = resume;
    return;
  }
  report_and_stop(f);
}

void on_breakpoint(arch::TrapFrame& f) {
  ++breakpoints;
  // RIP already points past the one-byte INT3 [sdm3] 6.5 (trap-class).
  arch::kprint("breakpoint at {:#018x}, resuming\n", f.rip - 1);
}

}  // namespace

void exception_init() {
  arch::set_unhandled_trap_handler(report_and_stop);
  arch::set_trap_handler(arch::kVectorBreakpoint, on_breakpoint);
  arch::set_trap_handler(arch::kVectorPageFault, on_fault);
  arch::set_trap_handler(arch::kVectorGeneralProtection, on_fault);
}

uint64_t breakpoint_count() { return breakpoints; }

uint64_t fixup_count() { return __atomic_load_n(&fixups, __ATOMIC_RELAXED); }

}  // namespace kernel
