#include "src/ktest/memory_need.h"

#include <gtest/gtest.h>

#include <string>

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

std::string why(uint64_t have, uint64_t need) {
  char buf[120];
  if (!ktest::memory_shortfall(have, need, buf, sizeof buf)) return "fits";
  return buf;
}

TEST(MemoryShortfall, FitsWhenTheBootHasEnough) {
  EXPECT_EQ(why(64 * kMiB, 64 * kMiB), "fits");
  EXPECT_EQ(why(64 * kMiB, 12 * kMiB), "fits");
  EXPECT_EQ(why(0, 0), "fits");
}

TEST(MemoryShortfall, NamesBothFigures) {
  EXPECT_EQ(why(8 * kMiB, 53 * kMiB), "needs 53 MiB of usable memory (this boot has 8 MiB)");
}

TEST(MemoryShortfall, RoundsSoTheFiguresNeverLookEqual) {
  EXPECT_EQ(why(12 * kMiB - 1, 12 * kMiB), "needs 12 MiB of usable memory (this boot has 11 MiB)");
  EXPECT_EQ(why(12 * kMiB + kMiB / 2, 12 * kMiB + kMiB / 2 + 1),
            "needs 13 MiB of usable memory (this boot has 12 MiB)");
}

}  // namespace
