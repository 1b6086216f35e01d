// The final line of a test run (see summary.h).
#include "src/ktest/summary.h"

namespace ktest {

void print_summary(base::Sink out, const Summary& s) {
  base::format(out, "{} passed, {} failed, {} skipped\n", s.passed, s.failed, s.skipped);
}

}  // namespace ktest
