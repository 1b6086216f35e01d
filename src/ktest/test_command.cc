// `test [GLOB]`: runs the in-kernel tests GLOB selects (default all but
// xfail suites) and prints the summary line; fails if a test failed or
// nothing matched. Skips are not failures: boot tests that expect none
// reject the SKIP lines.
#include "src/arch/console.h"
#include "src/ktest/ktest.h"
#include "src/ktest/suite_names.h"
#include "src/ktest/summary.h"
#include "src/monitor/command.h"

extern "C" const ktest::Case __ktest_start[], __ktest_end[];

namespace ktest {
namespace {

void complete_suites(base::StrView, monitor::Completions* out) {
  add_suite_names(base::Span<const Case>(__ktest_start, static_cast<size_t>(__ktest_end - __ktest_start)), out);
}

MONITOR_COMMAND_COMPLETING(test, "[GLOB]", "run in-kernel tests matching GLOB (default *)", &complete_suites) {
  base::StrView glob = args.empty() ? base::StrView("*") : args;
  Summary s = run_tests(glob);
  if (s.not_run > 0) arch::kprint("test: interrupted; {} selected tests not run\n", s.not_run);
  if (s.ran() == 0 && s.not_run == 0) {
    arch::kprint("no in-kernel test matches '{}'\n", glob);
    return false;
  }
  // Under the console lock, as kprint does: the line stays whole.
  arch::console_lock();
  print_summary(arch::console_sink(), s);
  arch::console_unlock();
  return s.failed == 0 && s.not_run == 0;
}

}  // namespace
}  // namespace ktest
