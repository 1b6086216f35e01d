// The boot log's LBR line: discovery on the boot CPU with the real CPUID and
// MSRs, printed next to the PMU line. Kernel only; boot context.
#pragma once

namespace prof {

/// Prints "prof: LBR: <describe()>", e.g. "prof: LBR: none (not an Intel
/// CPU)" under QEMU. Reads IA32_PERF_CAPABILITIES only where CPUID
/// promises it, so it cannot #GP on a CPU (or a TCG model) without one.
void print_lbr_line();

}  // namespace prof
