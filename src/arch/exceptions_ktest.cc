// In-kernel tests of exceptions: #BP recovery, the TSS (stacks.cc); plus the
// xfail suites that prove faults are reported (by prof's crash report).
#include "src/arch/descriptor.h"
#include "src/arch/exceptions.h"
#include "src/arch/smp_boot.h"
#include "src/arch/stacks.h"
#include "src/arch/trap.h"
#include "src/arch/tss.h"
#include "src/arch/x86.h"
#include "src/ktest/ktest.h"
#include "src/ktest/pin_to.h"
#include "src/mm/alloc_map.h"

namespace {

KTEST(arch, breakpoint_resumes) {
  uint64_t before = arch::breakpoint_count();
  volatile int after_trap = 0;
  asm volatile("int3");
  after_trap = 1;
  asm volatile("int3");
  KEXPECT_EQ(arch::breakpoint_count(), before + 2);
  KEXPECT_EQ(after_trap, 1);
}

// Expected to fault: proves an unexpected exception is reported with the
// faulting address and ends the run as a failure.
KTEST(xfail_arch, page_fault_report) {
  volatile uint64_t* bad = reinterpret_cast<volatile uint64_t*>(0xffff'8000'dead'b000);
  (void)*bad;
}

// Expected to overflow: recursion until the boot stack's guard page, which
// the page-fault handler, on its own IST stack, reports.
// The limit is far beyond any kernel stack: the guard page comes first.
[[gnu::noinline]] uint64_t consume_stack(uint64_t depth) {
  volatile uint8_t pad[256];
  pad[0] = static_cast<uint8_t>(depth);
  asm volatile("" ::: "memory");
  if (depth > (uint64_t{1} << 40)) return pad[0];
  return consume_stack(depth + 1) + pad[0];
}

KTEST(xfail_arch, kernel_stack_overflow_report) { (void)consume_stack(0); }

// Expected to double-fault: the page-fault IST pointer aimed at an unmapped
// page makes delivering a #PF fault again, which the CPU turns into a #DF
// ([sdm3] 6.15, table 6-5), delivered on its own IST stack and reported.
KTEST(xfail_arch, double_fault_report) {
  arch::Tss& t = arch::cpu_tss(arch::CpuIndex(0));
  t.ist[arch::kIstPageFault - 1] = arch::page_fault_stack_guard(arch::CpuIndex(0)) + 4096;
  volatile uint64_t* bad = reinterpret_cast<volatile uint64_t*>(0xffff'8000'dead'b000);
  (void)*bad;
}

KTEST(arch, tss_loaded_with_exact_limit) {
  ktest::PinTo pin(arch::CpuIndex(0));  // reads the task register of the CPU it runs on: the boot CPU's
  uint16_t tr;
  asm volatile("str %0" : "=r"(tr));
  KEXPECT_EQ(tr, arch::kFirstTssSelector);
  uint32_t limit;
  asm volatile("lsl %1, %0" : "=r"(limit) : "r"(uint32_t{tr}));
  KEXPECT_EQ(limit, arch::kTssLimit);
  KEXPECT_EQ(arch::cpu_tss(arch::CpuIndex(0)).iomap_base, sizeof(arch::Tss));
}

// Every CPU's stacks, the APs' mapped at boot from the page allocator
// (stacks.h): each IST stack the TSS names and each AP's kernel stack is
// classified as that CPU's, mapped, and has an unmapped guard page below it
// that find_stack names, so overflows fault and backtraces find their
// stacks on every CPU.
KTEST(arch, every_cpu_stack_is_classified_and_guarded) {
  KEXPECT_GE(arch::stacks_cpus(), arch::cpus_online());
  auto check = [&](uint32_t cpu, uint64_t top, const char* what) {
    arch::StackInfo in, guard;
    KEXPECT_TRUE(arch::find_stack(base::VirtAddr(top - 8), &in));
    KEXPECT_EQ(base::StrView(in.what), base::StrView(what));
    KEXPECT_EQ(in.cpu, cpu);
    KEXPECT_EQ(in.hi, top);
    KEXPECT_TRUE(!in.in_guard);
    KEXPECT_TRUE(mm::kernel_translate(base::VirtAddr(top - 8)).ok());
    KEXPECT_TRUE(mm::kernel_translate(base::VirtAddr(in.lo)).ok());
    const uint64_t below = in.lo - 4096;
    KEXPECT_TRUE(arch::find_stack(base::VirtAddr(below), &guard));
    KEXPECT_TRUE(guard.in_guard);
    KEXPECT_TRUE(arch::is_stack_guard_page(base::VirtAddr(below)));
    KEXPECT_TRUE(mm::kernel_translate(base::VirtAddr(below)).error() == base::Error::kNotFound);
  };
  const char* ist_names[arch::kIstStacks] = {"NMI stack", "double-fault stack", "machine-check stack",
                                             "page-fault stack"};
  for (uint32_t cpu = 0; cpu < arch::stacks_cpus(); ++cpu) {
    const arch::CpuIndex index(cpu);
    const arch::Tss& t = arch::cpu_tss(index);
    if (t.ist[0] == 0) continue;  // never started (skipped): no TSS
    for (unsigned k = 0; k < arch::kIstStacks; ++k) check(cpu, t.ist[k], ist_names[k]);
    KEXPECT_EQ(arch::page_fault_stack_guard(index), t.ist[arch::kIstPageFault - 1] - arch::kIstStackSize - 4096);
    if (cpu > 0) check(cpu, arch::ap_kernel_stack_top(index), "kernel stack");
  }
}

}  // namespace
