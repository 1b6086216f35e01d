// Tests for top's arithmetic: matching by tid, new threads, reused tids,
// the order of the result.
#include "src/sched/busiest_threads.h"

#include <gtest/gtest.h>

#include <vector>

namespace sched {
namespace {

ThreadTime row(uint32_t tid, uint64_t run_ns) {
  ThreadTime t;
  t.tid = tid;
  t.run_ns = run_ns;
  return t;
}

TEST(BusiestThreads, DeltasMatchedByTidBusiestFirst) {
  std::vector<ThreadTime> before = {row(7, 100), row(3, 50), row(9, 1000)};
  sort_by_tid(before.data(), before.size());
  EXPECT_EQ(before[0].tid, 3u);
  EXPECT_EQ(before[2].tid, 9u);
  // 3 ran 10, 7 ran 500, 9 ran 0, 12 is new and ran 40.
  std::vector<ThreadTime> after = {row(9, 1000), row(12, 40), row(3, 60), row(7, 600)};
  const uint64_t total = busiest_since(before.data(), before.size(), after.data(), after.size());
  EXPECT_EQ(total, 550u);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[0].tid, 7u);
  EXPECT_EQ(after[0].run_ns, 500u);
  EXPECT_EQ(after[1].tid, 12u);
  EXPECT_EQ(after[1].run_ns, 40u);
  EXPECT_EQ(after[2].tid, 3u);
  EXPECT_EQ(after[3].tid, 9u);
  EXPECT_EQ(after[3].run_ns, 0u);
}

TEST(BusiestThreads, AReusedTidCountsFromZero) {
  std::vector<ThreadTime> before = {row(4, 900)};
  std::vector<ThreadTime> after = {row(4, 30)};  // a new thread got tid 4
  EXPECT_EQ(busiest_since(before.data(), 1, after.data(), 1), 30u);
  EXPECT_EQ(after[0].run_ns, 30u);
}

TEST(BusiestThreads, ManyThreadsFindTheirEarlierSelves) {
  std::vector<ThreadTime> before, after;
  for (uint32_t tid = 1; tid <= 500; ++tid) before.push_back(row(tid * 2, tid * 1000));
  sort_by_tid(before.data(), before.size());
  for (uint32_t tid = 500; tid >= 1; --tid) after.push_back(row(tid * 2, tid * 1000 + tid));
  EXPECT_EQ(busiest_since(before.data(), before.size(), after.data(), after.size()), 500u * 501 / 2);
  EXPECT_EQ(after[0].tid, 1000u);
  EXPECT_EQ(after[0].run_ns, 500u);
  EXPECT_EQ(after[499].run_ns, 1u);
  EXPECT_EQ(run_ns_before(before.data(), before.size(), 3), 0u) << "an odd tid was never there";
}

}  // namespace
}  // namespace sched
