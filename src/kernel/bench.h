// Transitional: BENCH moved to src/ktest/bench.h. sched_bench.cc, being
// changed on main in parallel, still includes this path; it goes when that
// file is next edited.
#pragma once

#include "src/ktest/bench.h"

namespace kernel {

using ktest::BenchRun;

}  // namespace kernel
