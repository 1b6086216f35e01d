// Runs the registered benchmarks (bench.h): each selected one a warm-up
// and seven samples, printing `bench suite.name cycles=<median>
// ns=<median>` per iteration (under `-icount shift=0` a nanosecond is one
// guest instruction). Thread context, scheduler running.
#pragma once

#include "src/base/str.h"

namespace ktest {

/// Runs the benchmarks whose "suite.name", or suite, the comma-separated
/// globs select (select.h); returns how many ran (0: nothing matched).
/// Ctrl-C (monitor::interrupt_requested) stops it between two benchmarks;
/// *interrupted then says so.
unsigned run_benches(base::StrView patterns, bool* interrupted);

}  // namespace ktest
