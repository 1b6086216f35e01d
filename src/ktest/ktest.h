// In-kernel tests. `KTEST(suite, name) { ... }` registers a test in the
// .ktest section (no constructors, no allocation), from any module's
// kernel-only test library. run_tests(glob) runs the selected ones and
// prints "PASS suite.name", "FAIL suite.name: why" or "SKIP suite.name: why",
// then the summary line (summary.h). Thread context only.
//
// Suites named "xfail_*" exist to prove that failures are reported (a boot
// test expects them to fail) and run only when named explicitly (select.h).
#pragma once

#include "src/base/format.h"
#include "src/base/str.h"
#include "src/ktest/summary.h"

namespace ktest {

/// Per-test state handed to the test body (as `ktest_ctx`).
class Context {
 public:
  bool failed() const { return failed_; }
  bool skipped() const { return skip_why_[0] != '\0'; }
  /// Records a failure with its location; prints it at once.
  template <typename... Args>
  void fail(const char* file, int line, base::StrView fmt, const Args&... args) {
    char msg[200];
    base::format_to(msg, sizeof(msg), fmt, args...);
    record_failure(file, line, msg);
  }
  /// Marks the test skipped (see KTEST_SKIP); a failure recorded before
  /// still makes it fail.
  template <typename... Args>
  void skip(base::StrView fmt, const Args&... args) {
    base::format_to(skip_why_, sizeof(skip_why_), fmt, args...);
    if (skip_why_[0] == '\0') base::format_to(skip_why_, sizeof(skip_why_), "(no reason given)");
  }

 private:
  friend class Runner;
  void record_failure(const char* file, int line, const char* msg);
  const char* suite_ = "";
  const char* name_ = "";
  bool failed_ = false;
  char skip_why_[120] = {};
};

struct Case {
  const char* suite;
  const char* name;
  void (*fn)(Context&);
};

/// Runs every registered test whose "suite.name" is selected by `patterns`
/// (select.h) and prints one line per test; the caller prints the summary.
/// Ctrl-C (monitor::interrupt_requested) stops it between two tests; the
/// rest are counted in Summary::not_run.
Summary run_tests(base::StrView patterns);

}  // namespace ktest

#define KTEST(suite, name)                                                                          \
  static void ktest_fn_##suite##_##name(::ktest::Context& ktest_ctx);                               \
  [[gnu::used, gnu::section(".ktest")]] static constexpr ::ktest::Case ktest_case_##suite##_##name{ \
      #suite, #name, &ktest_fn_##suite##_##name};                                                   \
  static void ktest_fn_##suite##_##name([[maybe_unused]] ::ktest::Context& ktest_ctx)

/// Ends the test as skipped, with a reason (format arguments allowed):
/// for what this configuration cannot check (e.g. one CPU), never for a
/// failure. Boot tests where nothing may skip reject "SKIP" lines.
#define KTEST_SKIP(...)          \
  do {                           \
    ktest_ctx.skip(__VA_ARGS__); \
    return;                      \
  } while (0)

#define KTEST_CMP_(a, op, b, on_fail)                                                                    \
  do {                                                                                                   \
    const auto& ktest_a = (a);                                                                           \
    const auto& ktest_b = (b);                                                                           \
    if (!(ktest_a op ktest_b)) {                                                                         \
      ktest_ctx.fail(__FILE__, __LINE__, "expected {} " #op " {} ({} vs {})", #a, #b, ktest_a, ktest_b); \
      on_fail;                                                                                           \
    }                                                                                                    \
  } while (0)

#define KEXPECT_EQ(a, b) KTEST_CMP_(a, ==, b, (void)0)
#define KEXPECT_NE(a, b) KTEST_CMP_(a, !=, b, (void)0)
#define KEXPECT_LT(a, b) KTEST_CMP_(a, <, b, (void)0)
#define KEXPECT_LE(a, b) KTEST_CMP_(a, <=, b, (void)0)
#define KEXPECT_GT(a, b) KTEST_CMP_(a, >, b, (void)0)
#define KEXPECT_GE(a, b) KTEST_CMP_(a, >=, b, (void)0)
#define KEXPECT_TRUE(c) KTEST_CMP_(static_cast<bool>(c), ==, true, (void)0)
#define KASSERT_EQ(a, b) KTEST_CMP_(a, ==, b, return )
#define KASSERT_NE(a, b) KTEST_CMP_(a, !=, b, return )
#define KASSERT_TRUE(c) KTEST_CMP_(static_cast<bool>(c), ==, true, return )
