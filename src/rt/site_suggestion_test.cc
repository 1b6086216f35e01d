#include "src/rt/site_suggestion.h"

#include <gtest/gtest.h>

namespace rt {
namespace {

TEST(SuggestReservation, PeakPlusAQuarterAtLeastOne) {
  Objs peak{};
  peak[0] = 1;
  peak[3] = 8;
  peak[7] = 0xffff'fff0u;
  const Objs s = suggest_reservation(peak);
  EXPECT_EQ(s[0], 2u);
  EXPECT_EQ(s[3], 10u);
  EXPECT_EQ(s[7], 0xffff'ffffu);  // saturates
  EXPECT_EQ(s[1], 0u);            // nothing used, nothing suggested
  for (unsigned c = 0; c < kObjsClasses; ++c) EXPECT_GE(s[c], peak[c]) << "class " << c;
}

}  // namespace
}  // namespace rt
