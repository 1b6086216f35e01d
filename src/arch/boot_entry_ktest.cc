// In-kernel test of the boot entry's result: the CPU runs in long mode
// with paging on.
#include "src/arch/x86.h"
#include "src/ktest/ktest.h"

namespace {

KTEST(arch, long_mode_paging_enabled) {
  KEXPECT_NE(arch::read_cr0() & arch::kCr0Pg, 0u);
  KEXPECT_NE(arch::read_cr4() & arch::kCr4Pae, 0u);
  KEXPECT_NE(arch::rdmsr(arch::kIa32Efer) & arch::kEferLma, 0u);
}

}  // namespace
