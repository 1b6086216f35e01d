// In-kernel test of the boot entry's result: the CPU runs in long mode
// with paging on.
#include "src/arch/x86.h"
#include "src/ktest/ktest.h"

namespace {

KTEST(arch, long_mode_paging_enabled) {
  KEXPECT_NE(arch::read_cr0() & (1u << 31), 0u);  // CR0.PG
  KEXPECT_NE(arch::read_cr4() & (1u << 5), 0u);   // CR4.PAE
  KEXPECT_NE(arch::rdmsr(0xc000'0080) & (1u << 10), 0u);  // IA32_EFER.LMA
}

}  // namespace
