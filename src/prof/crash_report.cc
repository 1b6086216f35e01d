// See crash_report.h.
#include "src/prof/crash_report.h"

#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/arch/qemu_exit.h"
#include "src/arch/trap.h"
#include "src/arch/x86.h"
#include "src/prof/backtrace.h"
#include "src/prof/interrupted_mode.h"
#include "src/prof/kernel_symbols.h"
#include "src/prof/kernel_unwind.h"
#include "src/prof/stop_world.h"

namespace prof {
namespace {

void print_registers(const arch::TrapFrame& f) {
  arch::kprint("  rax={:#018x} rbx={:#018x} rcx={:#018x}\n", f.rax, f.rbx, f.rcx);
  arch::kprint("  rdx={:#018x} rsi={:#018x} rdi={:#018x}\n", f.rdx, f.rsi, f.rdi);
  arch::kprint("  rbp={:#018x} r8 ={:#018x} r9 ={:#018x}\n", f.rbp, f.r8, f.r9);
  arch::kprint("  r10={:#018x} r11={:#018x} r12={:#018x}\n", f.r10, f.r11, f.r12);
  arch::kprint("  r13={:#018x} r14={:#018x} r15={:#018x}\n", f.r13, f.r14, f.r15);
}

[[noreturn]] void report_and_stop(arch::TrapFrame& f) {
  prof::stop_other_cpus();
  arch::StackInfo stack;
  if (arch::frame_vector(f) == arch::kVectorPageFault && find_any_stack(arch::read_cr2(), &stack) && stack.in_guard) {
    arch::kprint(
        "\nkernel stack overflow: the {} of cpu {} ([{:#x}, {:#x})) ran into its guard page at {:#x}, rip={:#018x}\n",
        stack.what, stack.cpu, stack.lo, stack.hi, arch::read_cr2(), f.rip);
  }
  arch::kprint("\nEXCEPTION {} ({}) error={:#x} on cpu {}\n", f.vector, arch::vector_name(arch::frame_vector(f)),
               f.error_code, arch::this_cpu().index.value);
  arch::kprint("  rip={:#018x} rsp={:#018x} rflags={:#010x} cs={:#x} ss={:#x}\n", f.rip, f.rsp, f.rflags, f.cs, f.ss);
  if (arch::frame_vector(f) == arch::kVectorPageFault) {
    // Error code bits [sdm3] 4.7: P, W/R, U/S, RSVD, I/D.
    arch::kprint("  cr2={:#018x} ({} {} access, {})\n", arch::read_cr2(), (f.error_code & 4) ? "user" : "kernel",
                 (f.error_code & 16) ? "instruction" : ((f.error_code & 2) ? "write" : "read"),
                 (f.error_code & 1) ? "protection violation" : "page not present");
  }
  print_registers(f);
  char sym[kSymbolTextBytes];
  arch::kprint("  #0  {:#018x} {} (faulting instruction)\n", f.rip,
               format_symbol(f.rip, PcKind::kInstruction, sym, sizeof sym));
  print_backtrace(f.rbp);
  print_stopped_cpus(arch::console_sink());
  fail_stop();
}

}  // namespace

void crash_report_init() { arch::set_unhandled_trap_handler(report_and_stop); }

void print_backtrace(uint64_t rbp) {
  // Every kernel stack is known, so the walk reads only mapped stack memory
  // and crosses trap frames: a panic in a handler shows what it interrupted.
  uint64_t pcs[32];
  WalkEnd end;
  size_t n = unwind_from_frame(rbp, pcs, 32, &end);
  arch::kprint("backtrace:\n");
  char sym[kSymbolTextBytes];
  for (size_t i = 0; i < n; ++i) {
    arch::kprint("  #{:<2} {:#018x} {}\n", i, pcs[i],
                 format_symbol(pcs[i], frame_walk_pc_kind(pcs, i), sym, sizeof sym));
  }
  arch::kprint("  ({})\n", walk_end_name(end));
}

void fail_stop() { arch::qemu_exit(arch::ExitCode::kFail); }

}  // namespace prof
