// `bench [GLOB]`: runs the benchmarks GLOB (or a suite name) selects,
// default all; fails if nothing matched.
#include "src/arch/console.h"
#include "src/ktest/bench_runner.h"
#include "src/monitor/command.h"

namespace ktest {
namespace {

MONITOR_COMMAND(bench, "[GLOB]", "run benchmarks matching GLOB or a suite name (default *)") {
  if (run_benches(args.empty() ? base::StrView("*") : args) != 0) return true;
  arch::kprint("no benchmark matches '{}'\n", args);
  return false;
}

}  // namespace
}  // namespace ktest
