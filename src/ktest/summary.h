// The counts of one test run and its final line, "N passed, N failed,
// N skipped". CI and the boot tests grep the "N passed, N failed" prefix,
// so it never changes. Pure logic, host-tested. Any context.
#pragma once

#include "src/base/format.h"

namespace ktest {

struct Summary {
  unsigned passed = 0;
  unsigned failed = 0;
  unsigned skipped = 0;
  unsigned not_run = 0;  // selected, but Ctrl-C stopped the run first (not in the line)

  unsigned ran() const { return passed + failed + skipped; }
};

/// Writes the final line, newline included, to `out`.
void print_summary(base::Sink out, const Summary& s);

}  // namespace ktest
