#include "src/ktest/suite_names.h"

#include <gtest/gtest.h>

#include <string>

namespace {

struct FakeCase {
  const char* suite;
  const char* name;
};

std::string listed;
void collect(void*, const char* b, size_t n) { listed.append(b, n); }

TEST(SuiteNames, EachSuiteOnceAndOnlyMatches) {
  const FakeCase cases[] = {{"sched", "a"}, {"mm", "b"}, {"sched", "c"}, {"smp", "d"}, {"mm", "e"}};
  base::Span<const FakeCase> span(cases, 5);
  listed.clear();
  monitor::Completions all("", base::Sink{&collect, nullptr});
  ktest::add_suite_names(span, &all);
  EXPECT_EQ(all.count(), 3u);
  EXPECT_EQ(listed, "sched  mm  smp  ");
  monitor::Completions s("s", base::Sink{nullptr, nullptr});
  ktest::add_suite_names(span, &s);
  EXPECT_EQ(s.count(), 2u);
  EXPECT_EQ(s.common(), "s");
  monitor::Completions sc("sc", base::Sink{nullptr, nullptr});
  ktest::add_suite_names(span, &sc);
  EXPECT_EQ(sc.count(), 1u);
  EXPECT_EQ(sc.common(), "sched");
}

}  // namespace
