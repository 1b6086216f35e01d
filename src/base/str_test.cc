#include "src/base/str.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using base::glob_match;
using base::StrView;

TEST(StrView, Basics) {
  StrView s("hello world");
  EXPECT_EQ(s.size(), 11u);
  EXPECT_EQ(s.find('o'), 4u);
  EXPECT_EQ(s.find('o', 5), 7u);
  EXPECT_EQ(s.find('z'), StrView::npos);
  EXPECT_TRUE(s.substr(6) == StrView("world"));
  EXPECT_TRUE(s.substr(20).empty());
  EXPECT_TRUE(s.starts_with("hell"));
  EXPECT_FALSE(s.starts_with("world"));
  EXPECT_FALSE(StrView("ab") == StrView("abc"));
}

std::vector<std::string> Fields(const char* text, char sep) {
  std::vector<std::string> out;
  base::for_each_field(text, sep, [&](StrView f) {
    out.emplace_back(f.data(), f.size());
    return true;
  });
  return out;
}

TEST(ForEachField, SplitsKeepingEmptyFields) {
  EXPECT_EQ(Fields("a;b;c", ';'), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Fields("a;;b;", ';'), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(Fields("", ','), (std::vector<std::string>{""}));
  EXPECT_EQ(Fields("no-separator", ','), (std::vector<std::string>{"no-separator"}));
}

TEST(ForEachField, StopsWhenAsked) {
  int calls = 0;
  bool finished = base::for_each_field("x,y,z", ',', [&](StrView f) {
    ++calls;
    return !(f == StrView("y"));
  });
  EXPECT_FALSE(finished);
  EXPECT_EQ(calls, 2);
}

TEST(Glob, Matches) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "base.format"));
  EXPECT_TRUE(glob_match("base.*", "base.format"));
  EXPECT_FALSE(glob_match("base.*", "arch.idt"));
  EXPECT_TRUE(glob_match("*.idt*", "arch.idt_breakpoint"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_match("exact", "exact"));
  EXPECT_FALSE(glob_match("exact", "exactly"));
  EXPECT_FALSE(glob_match("", "x"));
}

}  // namespace
