// `bench [GLOB]`: runs the benchmarks GLOB (or a suite name) selects,
// default all; fails if nothing matched.
#include "src/arch/console.h"
#include "src/ktest/bench.h"
#include "src/ktest/bench_runner.h"
#include "src/ktest/suite_names.h"
#include "src/monitor/command.h"

extern "C" const ktest::BenchCase __bench_start[], __bench_end[];

namespace ktest {
namespace {

void complete_suites(base::StrView, monitor::Completions* out) {
  add_suite_names(base::Span<const BenchCase>(__bench_start, static_cast<size_t>(__bench_end - __bench_start)), out);
}

MONITOR_COMMAND_COMPLETING(bench, "[GLOB]", "run benchmarks matching GLOB or a suite name (default *)",
                           &complete_suites) {
  bool interrupted = false;
  const unsigned ran = run_benches(args.empty() ? base::StrView("*") : args, &interrupted);
  if (interrupted) return false;
  if (ran != 0) return true;
  arch::kprint("no benchmark matches '{}'\n", args);
  return false;
}

}  // namespace
}  // namespace ktest
