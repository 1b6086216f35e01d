// Tests for the dump text: the exact lines docs/profile_dump_format.md
// specifies, which the host tool parses.
#include "src/prof/dump_format.h"

#include <gtest/gtest.h>

#include <string>

namespace prof {
namespace {

base::Sink string_sink(std::string* s) {
  return base::Sink{[](void* ctx, const char* b, size_t n) { static_cast<std::string*>(ctx)->append(b, n); }, s};
}

TEST(DumpFormat, BeginSampleEnd) {
  std::string out;
  write_dump_begin(string_sink(&out), DumpHeader{"0123abcd", 1000, 1'000'000, 4});
  Sample s;
  s.header = SampleHeader{2, 17, 123456789, sample_flags::make(SampleMode::kInterrupt, false), 0};
  s.n_pcs = 3;
  s.pcs[0] = 0xffff'ffff'8010'2030;
  s.pcs[1] = 0xffff'ffff'8010'0a0b;
  s.pcs[2] = 0x1;
  write_dump_sample(string_sink(&out), s);
  write_dump_end(string_sink(&out), 1, 5);
  EXPECT_EQ(out,
            "prof-dump begin v1 build-id=0123abcd hz=1000 period_ns=1000000 cpus=4\n"
            "s 2 17 interrupt 0 123456789 ffffffff80102030 ffffffff80100a0b 1\n"
            "prof-dump end samples=1 dropped=5\n");
}

TEST(DumpFormat, NoBuildIdAndModes) {
  std::string out;
  write_dump_begin(string_sink(&out), DumpHeader{"", 20, 50'000'000, 1});
  EXPECT_EQ(out, "prof-dump begin v1 build-id=none hz=20 period_ns=50000000 cpus=1\n");
  for (SampleMode m : {SampleMode::kThread, SampleMode::kIdle}) {
    out.clear();
    Sample s;
    s.header.flags = sample_flags::make(m, false);
    s.header.event = 1;
    s.n_pcs = 1;
    s.pcs[0] = 0xabc;
    write_dump_sample(string_sink(&out), s);
    EXPECT_EQ(out, std::string("s 0 0 ") + (m == SampleMode::kIdle ? "idle" : "thread") + " 1 0 abc\n");
  }
  EXPECT_STREQ(sample_event_name(0), "nmi");
  EXPECT_STREQ(sample_event_name(1), "timer");
  EXPECT_STREQ(sample_event_name(9), "unknown");
}

TEST(DumpFormat, EventNumbersAndNamesRoundTrip) {
  // The numbers are in dumps: docs/profile_dump_format.md lists these.
  EXPECT_STREQ(sample_event_name(2), "cycles");
  EXPECT_STREQ(sample_event_name(3), "instructions");
  EXPECT_STREQ(sample_event_name(4), "branch-misses");
  EXPECT_STREQ(sample_event_name(5), "llc-misses");
  EXPECT_STREQ(sample_event_name(6), "unknown");
  for (int i = 0; i < kSampleEventCount; ++i) {
    SampleEvent e = SampleEvent::kNmiTimer;
    ASSERT_TRUE(parse_sample_event(base::StrView(sample_event_name(static_cast<uint8_t>(i))), &e)) << i;
    EXPECT_EQ(static_cast<int>(e), i);
    EXPECT_EQ(is_pmu_event(e), i >= 2);
  }
  SampleEvent e = SampleEvent::kTimer;
  for (const char* bad : {"", "unknown", "Cycles", "cycle", "cycles ", "llc_misses", "10"}) {
    EXPECT_FALSE(parse_sample_event(base::StrView(bad), &e)) << bad;
    EXPECT_EQ(e, SampleEvent::kTimer);  // untouched
  }
}

// With the LBR on, the branches follow the pcs after `lbr`, newest first,
// `!` marking a mispredicted one.
TEST(DumpFormat, SampleWithBranches) {
  std::string out;
  Sample s;
  s.header.cpu = 1;
  s.header.tid = 7;
  s.header.event = 2;
  s.header.timestamp = 99;
  s.n_pcs = 2;
  s.pcs[0] = 0xffffffff80101234;
  s.pcs[1] = 0xffffffff80100010;
  s.n_branches = 2;
  s.branches[0] = SampleBranch{0xffffffff80101200, 0xffffffff80101230, false};
  s.branches[1] = SampleBranch{0xffffffff801011f0, 0xffffffff80101100, true};
  write_dump_sample(string_sink(&out), s);
  EXPECT_EQ(out,
            "s 1 7 thread 2 99 ffffffff80101234 ffffffff80100010 lbr ffffffff80101200>ffffffff80101230 "
            "ffffffff801011f0>ffffffff80101100!\n");
}

}  // namespace
}  // namespace prof
