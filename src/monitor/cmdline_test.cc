#include "src/monitor/cmdline.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using monitor::Cmdline;

std::string Get(const char* text, const char* key) {
  base::StrView v = Cmdline(text).get(key);
  return std::string(v.data(), v.size());
}

TEST(Cmdline, KeyValueWords) {
  EXPECT_EQ(Get("console=ttyS0 test=arch.*", "test"), "arch.*");
  EXPECT_EQ(Get("  console=ttyS0   test=x  ", "console"), "ttyS0");
  EXPECT_EQ(Get("console=ttyS0", "missing"), "");
  EXPECT_FALSE(Cmdline("console=ttyS0").has("missing"));
  EXPECT_FALSE(Cmdline("").has("x"));
}

TEST(Cmdline, BareWordsAndEmptyValues) {
  EXPECT_TRUE(Cmdline("quiet test=1").has("quiet"));
  EXPECT_EQ(Get("quiet", "quiet"), "");
  EXPECT_TRUE(Cmdline("x=").has("x"));
  EXPECT_FALSE(Cmdline("xy=1").has("x")) << "keys match whole words";
}

TEST(Cmdline, QuotedValues) {
  EXPECT_EQ(Get("run=\"help; poweroff\" test=a", "run"), "help; poweroff");
  EXPECT_EQ(Get("run=\"help; poweroff\" test=a", "test"), "a");
  EXPECT_EQ(Get("run=\"unterminated value", "run"), "unterminated value");
}

TEST(Cmdline, LastOneWins) { EXPECT_EQ(Get("test=a console=x test=b", "test"), "b"); }

}  // namespace
