// See lbr_boot.h.
#include "src/prof/lbr_boot.h"

#include "src/arch/console.h"
#include "src/arch/cpu_features.h"
#include "src/arch/lapic.h"
#include "src/prof/lbr.h"

namespace prof {

void print_lbr_line() {
  arch::CpuMsr msr;
  char line[128];
  describe(discover_lbr(arch::CpuidInsn{}, msr), line, sizeof line);
  arch::kprint("prof: LBR: {}\n", static_cast<const char*>(line));
}

}  // namespace prof
