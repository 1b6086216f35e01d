// In-kernel tests of DEBUG_ASSERT: evaluated exactly in debug builds, and
// a false one panics there (the xfail test, which the debug boot test
// expects to end the kernel with the assertion's message).
#include "src/base/assert.h"
#include "src/ktest/ktest.h"

namespace {

KTEST(base, debug_assert_evaluated_exactly_in_debug_builds) {
  int evaluated = 0;
  DEBUG_ASSERT(++evaluated == 1);
  KEXPECT_EQ(evaluated, base::kDebugAsserts ? 1 : 0);
}

KTEST(xfail_base, false_debug_assert_panics) {
  if (!base::kDebugAsserts) KTEST_SKIP("DEBUG_ASSERT is compiled out of this (release) build");
  volatile int one = 1;  // not a constant, so the check happens at run time
  DEBUG_ASSERT(one == 2);
  KEXPECT_TRUE(false);  // never reached in a debug build: the assertion panics
}

}  // namespace
