// The runner's own results, proven end to end by boot tests: a failed
// comparison reported with its location and values, and a skip reported
// and counted as one. xfail suites: they run only when named.
#include "src/ktest/ktest.h"

namespace {

KTEST(xfail_ktest, reports_failure) {
  int one = 1;
  KEXPECT_EQ(one, 2);
}

KTEST(xfail_ktest, reports_skip) {
  KTEST_SKIP("skipped on purpose ({} of {})", 1, 1);
  KEXPECT_TRUE(false);  // never reached: a skip ends the test
}

}  // namespace
