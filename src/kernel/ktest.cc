// The in-kernel test runner (see ktest.h).
#include "src/kernel/ktest.h"

#include "src/kernel/console.h"

extern "C" const kernel::KTestCase __ktest_start[], __ktest_end[];

namespace kernel {

class KTestRunner {
 public:
  static bool run_one(const KTestCase& tc) {
    KTestContext ctx;
    ctx.suite_ = tc.suite;
    ctx.name_ = tc.name;
    tc.fn(ctx);
    if (!ctx.failed_) kprint("PASS {}.{}\n", tc.suite, tc.name);
    return !ctx.failed_;
  }
};

void KTestContext::record_failure(const char* file, int line, const char* msg) {
  failed_ = true;
  kprint("FAIL {}.{}: {}:{}: {}\n", suite_, name_, file, line, msg);
}

KTestSummary run_ktests(base::StrView glob) {
  KTestSummary sum;
  bool want_xfail = glob.starts_with("xfail_");
  for (const KTestCase* tc = __ktest_start; tc != __ktest_end; ++tc) {
    char full[96];
    size_t n = base::format_to(full, sizeof(full), "{}.{}", tc->suite, tc->name);
    base::StrView name(full, n < sizeof(full) ? n : sizeof(full) - 1);
    if (!base::glob_match(glob, name)) continue;
    if (!want_xfail && base::StrView(tc->suite).starts_with("xfail_")) continue;
    if (KTestRunner::run_one(*tc)) {
      ++sum.passed;
    } else {
      ++sum.failed;
    }
  }
  return sum;
}

}  // namespace kernel
