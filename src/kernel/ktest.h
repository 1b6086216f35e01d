// In-kernel tests. `KTEST(suite, name) { ... }` registers a test in the
// .ktest section (no constructors, no allocation); `run_ktests(glob)` runs
// the matching ones and prints "PASS suite.name" / "FAIL suite.name: why"
// and a final "N passed, N failed". Thread context only.
//
// Suites named "xfail_*" exist to prove that failures are reported (a boot
// test expects them to fail) and run only when an including glob names
// them explicitly, i.e. starts with "xfail_".
#pragma once

#include "src/base/format.h"
#include "src/base/str.h"

namespace kernel {

/// Per-test state handed to the test body.
class KTestContext {
 public:
  bool failed() const { return failed_; }
  /// Records a failure with its location; prints it at once.
  template <typename... Args>
  void fail(const char* file, int line, base::StrView fmt, const Args&... args) {
    char msg[200];
    base::format_to(msg, sizeof(msg), fmt, args...);
    record_failure(file, line, msg);
  }

 private:
  friend class KTestRunner;
  void record_failure(const char* file, int line, const char* msg);
  const char* suite_ = "";
  const char* name_ = "";
  bool failed_ = false;
};

struct KTestCase {
  const char* suite;
  const char* name;
  void (*fn)(KTestContext&);
};

/// Result counts of one run.
struct KTestSummary {
  unsigned passed = 0;
  unsigned failed = 0;
};

/// Runs every registered test whose "suite.name" is selected by `patterns`:
/// comma-separated globs, where a leading '-' excludes ("*,-lapic.*").
KTestSummary run_ktests(base::StrView patterns);

/// Whether `name` is selected by `patterns` (as run_ktests reads them);
/// an `xfail` name only by a pattern that starts with "xfail_".
bool name_selected(base::StrView patterns, base::StrView name, bool xfail);

}  // namespace kernel

#define KTEST(suite, name)                                                              \
  static void ktest_fn_##suite##_##name(::kernel::KTestContext& ktest_ctx);             \
  [[gnu::used, gnu::section(".ktest")]] static constexpr ::kernel::KTestCase            \
      ktest_case_##suite##_##name{#suite, #name, &ktest_fn_##suite##_##name};            \
  static void ktest_fn_##suite##_##name([[maybe_unused]] ::kernel::KTestContext& ktest_ctx)

#define KTEST_CMP_(a, op, b, on_fail)                                                   \
  do {                                                                                  \
    const auto& ktest_a = (a);                                                          \
    const auto& ktest_b = (b);                                                          \
    if (!(ktest_a op ktest_b)) {                                                        \
      ktest_ctx.fail(__FILE__, __LINE__, "expected {} " #op " {} ({} vs {})", #a, #b,   \
                     ktest_a, ktest_b);                                                 \
      on_fail;                                                                          \
    }                                                                                   \
  } while (0)

#define KEXPECT_EQ(a, b) KTEST_CMP_(a, ==, b, (void)0)
#define KEXPECT_NE(a, b) KTEST_CMP_(a, !=, b, (void)0)
#define KEXPECT_LT(a, b) KTEST_CMP_(a, <, b, (void)0)
#define KEXPECT_LE(a, b) KTEST_CMP_(a, <=, b, (void)0)
#define KEXPECT_GT(a, b) KTEST_CMP_(a, >, b, (void)0)
#define KEXPECT_GE(a, b) KTEST_CMP_(a, >=, b, (void)0)
#define KEXPECT_TRUE(c) KTEST_CMP_(static_cast<bool>(c), ==, true, (void)0)
#define KASSERT_EQ(a, b) KTEST_CMP_(a, ==, b, return)
#define KASSERT_NE(a, b) KTEST_CMP_(a, !=, b, return)
#define KASSERT_TRUE(c) KTEST_CMP_(static_cast<bool>(c), ==, true, return)
