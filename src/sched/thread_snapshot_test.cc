#include "src/sched/thread_snapshot.h"

#include <gtest/gtest.h>

namespace {

sched::ThreadRow row(uint32_t tid, uint64_t run_ns, bool idle = false) {
  sched::ThreadRow r;
  r.tid = tid;
  r.run_ns = run_ns;
  r.idle = idle;
  r.voluntary = tid;
  r.involuntary = 2 * tid;
  return r;
}

TEST(ThreadSnapshot, SortsByRunTimeThenTid) {
  sched::ThreadSnapshot<8> s;
  for (auto r : {row(1, 5), row(2, 50, true), row(3, 5), row(4, 0), row(5, 700)}) s.add(r);
  s.sort();
  ASSERT_EQ(s.size(), 5u);
  const uint32_t want[] = {5, 2, 1, 3, 4};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(s[i].tid, want[i]) << i;
}

TEST(ThreadSnapshot, TotalsCountEveryThreadEvenUnlisted) {
  sched::ThreadSnapshot<2> s;
  s.add(row(1, 10, true));
  s.add(row(2, 20, true));
  s.add(row(3, 30));
  s.sort();
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.unlisted(), 1u);
  EXPECT_EQ(s.threads(), 3u);
  EXPECT_EQ(s.idle(), 2u);
  EXPECT_EQ(s.run_ns(), 60u);
  EXPECT_EQ(s.voluntary(), 6u);
  EXPECT_EQ(s.involuntary(), 12u);
  EXPECT_EQ(s[0].tid, 2u) << "the rows kept are sorted; the one past the end is only counted";
  s.clear();
  s.add(row(7, 1));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.threads(), 1u);
  EXPECT_EQ(s.idle(), 0u);
  EXPECT_EQ(s.unlisted(), 0u);
  EXPECT_EQ(s.run_ns(), 1u);
}

}  // namespace
