#include "src/ktest/select.h"

#include <gtest/gtest.h>

namespace {

using ktest::name_selected;

TEST(Select, IncludingGlobs) {
  EXPECT_TRUE(name_selected("*", "mm.page_alloc", false));
  EXPECT_TRUE(name_selected("mm.*", "mm.page_alloc", false));
  EXPECT_FALSE(name_selected("sched.*", "mm.page_alloc", false));
  EXPECT_TRUE(name_selected("sched.*,mm.page_?lloc", "mm.page_alloc", false));
  EXPECT_FALSE(name_selected("", "mm.page_alloc", false)) << "nothing is selected by nothing";
  EXPECT_FALSE(name_selected("mm", "mm.page_alloc", false)) << "a glob matches the whole name";
}

TEST(Select, ExcludingGlobsWinWhereverTheyStand) {
  EXPECT_FALSE(name_selected("*,-mm.*", "mm.page_alloc", false));
  EXPECT_FALSE(name_selected("-mm.*,*", "mm.page_alloc", false));
  EXPECT_TRUE(name_selected("*,-mm.*", "sched.yield", false));
  EXPECT_FALSE(name_selected("-mm.*", "sched.yield", false)) << "exclusions alone include nothing";
}

TEST(Select, XfailOnlyByExplicitName) {
  EXPECT_FALSE(name_selected("*", "xfail_mm.double_free", true));
  EXPECT_FALSE(name_selected("*.double_free", "xfail_mm.double_free", true));
  EXPECT_TRUE(name_selected("xfail_mm.*", "xfail_mm.double_free", true));
  EXPECT_TRUE(name_selected("xfail_*", "xfail_mm.double_free", true));
  EXPECT_FALSE(name_selected("xfail_*,-xfail_mm.*", "xfail_mm.double_free", true));
  EXPECT_TRUE(ktest::is_xfail_suite("xfail_heap"));
  EXPECT_FALSE(ktest::is_xfail_suite("heap"));
}

}  // namespace
