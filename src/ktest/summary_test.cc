#include "src/ktest/summary.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace {

std::string line_of(const ktest::Summary& s) {
  std::string out;
  ktest::print_summary(
      base::Sink{[](void* ctx, const char* b, size_t n) { static_cast<std::string*>(ctx)->append(b, n); }, &out}, s);
  return out;
}

TEST(Summary, FinalLine) {
  EXPECT_EQ(line_of({.passed = 12, .failed = 1, .skipped = 2}), "12 passed, 1 failed, 2 skipped\n");
  EXPECT_EQ(line_of({}), "0 passed, 0 failed, 0 skipped\n");
}

// CI (.ci/run, test/boot_test.sh) finds the line by this prefix.
TEST(Summary, KeepsThePrefixCiGreps) {
  EXPECT_TRUE(std::regex_search(line_of({.passed = 3, .skipped = 4}), std::regex("^[0-9]+ passed, [0-9]+ failed")));
}

TEST(Summary, RanCountsSkipsToo) { EXPECT_EQ((ktest::Summary{.passed = 1, .failed = 2, .skipped = 3}).ran(), 6u); }

}  // namespace
