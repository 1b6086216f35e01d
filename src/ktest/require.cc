// The running boot's side of KTEST_REQUIRE_MEMORY (see require.h).
#include "src/ktest/require.h"

#include "src/ktest/memory_need.h"
#include "src/mm/kernel_vm.h"

namespace ktest {

bool skip_unless_memory(Context& ctx, uint64_t need) {
  char why[100];
  if (!memory_shortfall(mm::usable_memory().bytes, need, why, sizeof why)) return false;
  ctx.skip("{}", static_cast<const char*>(why));
  return true;
}

}  // namespace ktest
