// `test [GLOB]`: runs the in-kernel tests GLOB selects (default all but
// xfail suites) and prints the summary line; fails if a test failed or
// nothing matched. Skips are not failures: boot tests that expect none
// reject the SKIP lines.
#include "src/arch/console.h"
#include "src/ktest/ktest.h"
#include "src/ktest/summary.h"
#include "src/monitor/command.h"

namespace ktest {
namespace {

MONITOR_COMMAND(test, "[GLOB]", "run in-kernel tests matching GLOB (default *)") {
  base::StrView glob = args.empty() ? base::StrView("*") : args;
  Summary s = run_tests(glob);
  if (s.ran() == 0) {
    arch::kprint("no in-kernel test matches '{}'\n", glob);
    return false;
  }
  // Under the console lock, as kprint does: the line stays whole.
  arch::console_lock();
  print_summary(arch::console_sink(), s);
  arch::console_unlock();
  return s.failed == 0;
}

}  // namespace
}  // namespace ktest
