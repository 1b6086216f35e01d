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

// `patterns` is a comma-separated list of globs; those starting with '-'
// exclude. A test runs when it matches an including glob and no excluding
// one. xfail_ suites run only when an including glob names them.
bool name_selected(base::StrView patterns, base::StrView name, bool xfail) {
  bool included = false;
  bool excluded = !base::for_each_field(patterns, ',', [&](base::StrView p) {
    if (p.starts_with("-")) return !base::glob_match(p.substr(1), name);
    if (!p.empty() && base::glob_match(p, name) && (!xfail || p.starts_with("xfail_"))) included = true;
    return true;
  });
  return included && !excluded;
}

KTestSummary run_ktests(base::StrView patterns) {
  KTestSummary sum;
  for (const KTestCase* tc = __ktest_start; tc != __ktest_end; ++tc) {
    char full[96];
    size_t n = base::format_to(full, sizeof(full), "{}.{}", tc->suite, tc->name);
    base::StrView name(full, n < sizeof(full) ? n : sizeof(full) - 1);
    if (!name_selected(patterns, name, base::StrView(tc->suite).starts_with("xfail_"))) continue;
    if (KTestRunner::run_one(*tc)) {
      ++sum.passed;
    } else {
      ++sum.failed;
    }
  }
  return sum;
}

}  // namespace kernel
