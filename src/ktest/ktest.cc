// The in-kernel test runner (see ktest.h).
#include "src/ktest/ktest.h"

#include "src/arch/console.h"
#include "src/ktest/select.h"
#include "src/monitor/command.h"

extern "C" const ktest::Case __ktest_start[], __ktest_end[];

namespace ktest {

class Runner {
 public:
  // Runs one test and counts its result.
  static void run_one(const Case& tc, Summary* sum) {
    Context ctx;
    ctx.suite_ = tc.suite;
    ctx.name_ = tc.name;
    tc.fn(ctx);
    if (ctx.failed_) {
      ++sum->failed;  // already printed, with its location
    } else if (ctx.skipped()) {
      ++sum->skipped;
      arch::kprint("SKIP {}.{}: {}\n", tc.suite, tc.name, ctx.skip_why_);
    } else {
      ++sum->passed;
      arch::kprint("PASS {}.{}\n", tc.suite, tc.name);
    }
  }
};

void Context::record_failure(const char* file, int line, const char* msg) {
  failed_ = true;
  arch::kprint("FAIL {}.{}: {}:{}: {}\n", suite_, name_, file, line, msg);
}

Summary run_tests(base::StrView patterns) {
  Summary sum;
  for (const Case* tc = __ktest_start; tc != __ktest_end; ++tc) {
    char full[96];
    size_t n = base::format_to(full, sizeof(full), "{}.{}", tc->suite, tc->name);
    base::StrView name(full, n < sizeof(full) ? n : sizeof(full) - 1);
    if (!name_selected(patterns, name, is_xfail_suite(tc->suite))) continue;
    if (sum.not_run > 0 || monitor::interrupt_requested()) {
      ++sum.not_run;  // interrupted: count the rest
      continue;
    }
    Runner::run_one(*tc, &sum);
  }
  return sum;
}

}  // namespace ktest
