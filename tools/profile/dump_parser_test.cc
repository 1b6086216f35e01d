// Tests for parse_dump: good, CRLF, interleaved, truncated and malformed
// captures, and the choice among several.
#include "tools/profile/dump_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace profile {
namespace {

const char kGood[] =
    "biscotti 0.1.0 build 93dad4601cf540c9b9cc8f11ed253d357d3dac82\n"
    "prof-dump begin v1 build-id=93dad4601cf540c9b9cc8f11ed253d357d3dac82 hz=1000 "
    "period_ns=1000000 cpus=2\n"
    "s 0 1 thread 0 5000 ffffffff80101234 ffffffff80105678 ffffffff80109abc\n"
    "s 1 7 interrupt 3 6000 ffffffff80102000\n"
    "s 1 0 idle 0 7000 ffffffff80103000 ffffffff80104000\n"
    "prof-dump end samples=3 dropped=2\n"
    "bench sched.yield cycles=100 ns=50\n";

// A PMU profile with the LBR on: branches after `lbr`, newest first.
const char kGoodLbr[] =
    "prof-dump begin v1 build-id=none hz=1000 period_ns=333333 cpus=2\n"
    "s 1 7 thread 2 5000 ffffffff80101234 ffffffff80105678 lbr ffffffff80101200>ffffffff80101230 "
    "ffffffff801011f0>ffffffff80101100!\n"
    "s 0 1 idle 2 6000 ffffffff80103000\n"
    "prof-dump end samples=2 dropped=0\n";

Capture parse_ok(const std::string& log) {
  Capture c;
  std::string error;
  EXPECT_TRUE(parse_dump(log, &c, &error)) << error;
  return c;
}

std::string parse_error(const std::string& log) {
  Capture c;
  std::string error;
  EXPECT_FALSE(parse_dump(log, &c, &error));
  return error;
}

TEST(DumpParser, GoodCapture) {
  const Capture c = parse_ok(kGood);
  EXPECT_EQ(c.build_id, "93dad4601cf540c9b9cc8f11ed253d357d3dac82");
  EXPECT_EQ(c.hz, 1000u);
  EXPECT_EQ(c.period_ns, 1'000'000u);
  EXPECT_EQ(c.cpus, 2u);
  EXPECT_EQ(c.dropped, 2u);
  EXPECT_EQ(c.begin_line, 2u);
  EXPECT_EQ(c.end_line, 6u);
  EXPECT_EQ(c.ignored_begin_line, 0u);
  ASSERT_EQ(c.samples.size(), 3u);
  const prof::Sample& a = c.samples[0];
  EXPECT_EQ(a.header.cpu, 0u);
  EXPECT_EQ(a.header.tid, 1u);
  EXPECT_EQ(prof::sample_flags::mode(a.header.flags), prof::SampleMode::kThread);
  EXPECT_EQ(a.header.event, 0);
  EXPECT_EQ(a.header.timestamp, 5000u);
  ASSERT_EQ(a.n_pcs, 3);
  EXPECT_EQ(a.pcs[0], 0xffff'ffff'8010'1234u);
  EXPECT_EQ(a.pcs[2], 0xffff'ffff'8010'9abcu);
  EXPECT_EQ(prof::sample_flags::mode(c.samples[1].header.flags), prof::SampleMode::kInterrupt);
  EXPECT_EQ(c.samples[1].header.event, 3);
  EXPECT_EQ(prof::sample_flags::mode(c.samples[2].header.flags), prof::SampleMode::kIdle);
}

std::string crlf(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\n') out += '\r';
    out += ch;
  }
  return out;
}

TEST(DumpParser, CrlfLineEndings) {
  const Capture c = parse_ok(crlf(kGood));
  ASSERT_EQ(c.samples.size(), 3u);
  EXPECT_EQ(c.samples[2].pcs[1], 0xffff'ffff'8010'4000u);  // no '\r' in the last pc
  EXPECT_EQ(c.dropped, 2u);
}

TEST(DumpParser, NoBuildIdAndNoTrailingNewline) {
  const Capture c = parse_ok(
      "prof-dump begin v1 build-id=none hz=250 period_ns=4000000 cpus=1\n"
      "s 0 2 thread 0 1 1000\n"
      "prof-dump end samples=1 dropped=0");
  EXPECT_EQ(c.build_id, "");
  EXPECT_EQ(c.samples.size(), 1u);
}

TEST(DumpParser, OtherOutputInterleavedIsIgnored) {
  const Capture c = parse_ok(
      "prof-dump begin v1 build-id=none hz=1000 period_ns=1000000 cpus=4\n"
      "s 0 1 thread 0 1 a\n"
      "cpu 3: timer drift 12 us\n"
      "\n"
      "sched: switches 10\n"  // starts with "s" but not "s "
      "s 3 1 thread 0 2 b c\n"
      "PASS sched.yield\n"
      "prof-dump end samples=2 dropped=0\n");
  ASSERT_EQ(c.samples.size(), 2u);
  EXPECT_EQ(c.samples[1].header.cpu, 3u);
  EXPECT_EQ(c.samples[1].n_pcs, 2);
}

TEST(DumpParser, MaxPcs) {
  std::string line = "s 0 1 thread 0 1";
  for (int i = 0; i < 33; ++i) line += " " + std::to_string(1000 + i);
  const std::string begin = "prof-dump begin v1 build-id=none hz=1 period_ns=1 cpus=1\n";
  const Capture c = parse_ok(begin + line + "\nprof-dump end samples=1 dropped=0\n");
  EXPECT_EQ(c.samples[0].n_pcs, 33);
  EXPECT_EQ(c.samples[0].pcs[32], 0x1032u);
  EXPECT_NE(parse_error(begin + line + " 5\nprof-dump end samples=1 dropped=0\n").find("34 pcs"), std::string::npos);
}

TEST(DumpParser, TruncatedCaptures) {
  const std::string good = kGood;
  // Cut before the end line: no end marker.
  const std::string cut = good.substr(0, good.find("prof-dump end"));
  EXPECT_EQ(parse_error(cut),
            "capture incomplete: no 'prof-dump end' line after the begin line at line 2 (the "
            "kernel stopped mid-dump?)");
  // A sample line lost (e.g. garbled by another CPU's output): count mismatch.
  std::string lost = good;
  lost.replace(lost.find("s 1 7"), 1, "x");
  EXPECT_EQ(parse_error(lost), "capture incomplete: got 2 of 3 samples (lines 2-6)");
  EXPECT_EQ(parse_error("hello\nworld\n"), "no profile dump in the log: no 'prof-dump begin' line");
  EXPECT_EQ(parse_error(""), "no profile dump in the log: no 'prof-dump begin' line");
}

TEST(DumpParser, MalformedSampleLinesNameTheirLine) {
  const std::string begin = "prof-dump begin v1 build-id=none hz=1000 period_ns=1000000 cpus=2\n";
  const std::string end = "prof-dump end samples=1 dropped=0\n";
  const struct {
    const char* line;
    const char* why;
  } cases[] = {
      {"s 0 1 thread 0 1", "want 's <cpu>"},  // no pc
      {"s 2 1 thread 0 1 ab", "cpu not a decimal below cpus=2"},
      {"s x 1 thread 0 1 ab", "cpu not a decimal"},
      {"s 0 -1 thread 0 1 ab", "tid not a decimal"},
      {"s 0 1 user 0 1 ab", "mode not thread, interrupt or idle"},
      {"s 0 1 thread 256 1 ab", "event not a decimal 0..255"},
      {"s 0 1 thread 0 1.5 ab", "timestamp not a decimal"},
      {"s 0 1 thread 0 1 0xab", "pc 0 not lowercase hex"},
      {"s 0 1 thread 0 1 ab CD", "pc 1 not lowercase hex"},
      {"s 0 1 thread 0 1 ab  cd", "pc 1 not lowercase hex"},                  // two spaces: an empty field
      {"s 0 1 thread 0 1 ab ", "pc 1 not lowercase hex"},                     // trailing space
      {"s 0 1 thread 0 1 12345678901234567", "pc 0 not lowercase hex"},       // 17 digits
      {"s 0 1 thread 0 99999999999999999999 ab", "timestamp not a decimal"},  // overflow
  };
  for (const auto& t : cases) {
    SCOPED_TRACE(t.line);
    const std::string e = parse_error("boot\n" + begin + t.line + "\n" + end);
    EXPECT_EQ(e.rfind("line 3: malformed sample line (", 0), 0u) << e;
    EXPECT_NE(e.find(t.why), std::string::npos) << e;
    EXPECT_NE(e.find(t.line), std::string::npos) << e;
  }
}

TEST(DumpParser, LbrBranches) {
  const Capture c = parse_ok(kGoodLbr);
  ASSERT_EQ(c.samples.size(), 2u);
  const prof::Sample& s = c.samples[0];
  ASSERT_EQ(s.n_pcs, 2u);
  EXPECT_EQ(s.pcs[1], 0xffffffff80105678u);
  ASSERT_EQ(s.n_branches, 2u);
  EXPECT_EQ(s.branches[0], (prof::SampleBranch{0xffffffff80101200, 0xffffffff80101230, false}));
  EXPECT_EQ(s.branches[1], (prof::SampleBranch{0xffffffff801011f0, 0xffffffff80101100, true}));
  EXPECT_NE(s.header.flags & prof::sample_flags::kBranches, 0);
  EXPECT_EQ(c.samples[1].n_branches, 0u);
  EXPECT_EQ(c.samples[1].header.flags & prof::sample_flags::kBranches, 0);

  // 32 branches are the most.
  std::string line = "s 0 1 thread 2 1 ab lbr";
  for (int i = 0; i < 32; ++i) line += " a>b";
  const std::string begin = "prof-dump begin v1 build-id=none hz=1000 period_ns=1000000 cpus=2\n";
  const std::string end = "prof-dump end samples=1 dropped=0\n";
  EXPECT_EQ(parse_ok(begin + line + "\n" + end).samples[0].n_branches, 32u);
  const std::string e = parse_error(begin + line + " a>b\n" + end);
  EXPECT_NE(e.find("33 branches, at most 32"), std::string::npos) << e;
}

TEST(DumpParser, MalformedLbrParts) {
  const std::string begin = "prof-dump begin v1 build-id=none hz=1000 period_ns=1000000 cpus=2\n";
  const std::string end = "prof-dump end samples=1 dropped=0\n";
  const struct {
    const char* line;
    const char* why;
  } cases[] = {
      {"s 0 1 thread 2 1 lbr a>b", "no pc before 'lbr'"},
      {"s 0 1 thread 2 1 ab lbr", "'lbr' with no branch after it"},
      {"s 0 1 thread 2 1 ab lbr ab", "branch 0 not '<from>><to>'"},
      {"s 0 1 thread 2 1 ab lbr a>b c>", "branch 1 not"},
      {"s 0 1 thread 2 1 ab lbr >b", "branch 0 not"},
      {"s 0 1 thread 2 1 ab lbr a>b!!", "branch 0 not"},
      {"s 0 1 thread 2 1 ab lbr A>b", "branch 0 not"},
      {"s 0 1 thread 2 1 ab lbr a>b lbr", "branch 1 not"},
      {"s 0 1 thread 2 1 ab lbr 12345678901234567>b", "branch 0 not"},
      {"s 0 1 thread 2 1 ab lbr a>b ", "branch 1 not"},
  };
  for (const auto& t : cases) {
    SCOPED_TRACE(t.line);
    const std::string e = parse_error(begin + t.line + "\n" + end);
    EXPECT_EQ(e.rfind("line 2: malformed sample line (", 0), 0u) << e;
    EXPECT_NE(e.find(t.why), std::string::npos) << e;
  }
}

TEST(DumpParser, MalformedMarkers) {
  const std::string s = "s 0 1 thread 0 1 ab\n";
  const std::string end = "prof-dump end samples=1 dropped=0\n";
  EXPECT_EQ(parse_error("prof-dump begin v2 build-id=none hz=1 period_ns=1 cpus=1\n" + s + end),
            "line 1: unsupported dump version 'v2' (this tool reads v1)");
  for (const char* begin : {
           "prof-dump begin v1 build-id=none hz=1 period_ns=1\n",
           "prof-dump begin v1 build-id=abc hz=1 period_ns=1 cpus=1\n",  // odd length
           "prof-dump begin v1 build-id=AB hz=1 period_ns=1 cpus=1\n",
           "prof-dump begin v1 build-id=none hz=0 period_ns=1 cpus=1\n",
           "prof-dump begin v1 build-id=none hz=1 period_ns=1 cpus=0\n",
           "prof-dump begin v1 build-id=none period_ns=1 hz=1 cpus=1\n",
       }) {
    SCOPED_TRACE(begin);
    EXPECT_EQ(parse_error(begin + s + end).rfind("line 1: malformed begin line", 0), 0u);
  }
  const std::string begin = "prof-dump begin v1 build-id=none hz=1 period_ns=1 cpus=1\n";
  EXPECT_EQ(parse_error(begin + s + "prof-dump end samples=1\n").rfind("line 3: malformed end line", 0), 0u);
  EXPECT_EQ(parse_error(begin + s + "prof-dump end\n").rfind("line 3: malformed end line", 0), 0u);
  EXPECT_EQ(parse_error("prof-dump begin\n" + s + end).rfind("line 1: malformed begin line", 0), 0u);
  EXPECT_EQ(parse_error(begin + s + "prof-dump pause\n" + end),
            "line 3: unexpected 'prof-dump pause' inside the capture begun at line 1");
}

TEST(DumpParser, LastCompleteCaptureWins) {
  const std::string first =
      "prof-dump begin v1 build-id=none hz=100 period_ns=10000000 cpus=1\n"
      "s 0 1 thread 0 1 garbage!\n"  // a broken old capture is not looked at
      "prof-dump end samples=1 dropped=0\n";
  const std::string second =
      "prof-dump begin v1 build-id=none hz=200 period_ns=5000000 cpus=1\n"
      "s 0 1 thread 0 1 ab\n"
      "prof-dump end samples=1 dropped=0\n";
  const std::string cut_third = "prof-dump begin v1 build-id=none hz=300 period_ns=1 cpus=1\ns 0";
  Capture c = parse_ok(first + second);
  EXPECT_EQ(c.hz, 200u);
  EXPECT_EQ(c.begin_line, 4u);
  // A later capture cut short: the last complete one is used, and the
  // caller learns where the ignored one began.
  c = parse_ok(first + second + cut_third);
  EXPECT_EQ(c.hz, 200u);
  EXPECT_EQ(c.ignored_begin_line, 7u);
  // Two begins before one end (the first dump cut short, then restarted):
  // the one nearest the end counts.
  c = parse_ok("prof-dump begin v1 build-id=none hz=100 period_ns=1 cpus=1\ns 0 1 thread 0 1 ab\n" + second);
  EXPECT_EQ(c.hz, 200u);
  EXPECT_EQ(c.samples.size(), 1u);
}

}  // namespace
}  // namespace profile
