// sample_problem: a well-formed sample passes, and each field out of its
// bounds is named.
#include "src/torture/sample_check.h"

#include <gtest/gtest.h>

#include <string>

#include "src/prof/dump_format.h"

namespace torture {
namespace {

constexpr uint64_t kLo = 0xffff'ffff'8010'0000;
constexpr uint64_t kHi = 0xffff'ffff'8020'0000;

SampleBounds bounds() {
  SampleBounds b;
  b.cpus = 4;
  b.text_lo = kLo;
  b.text_hi = kHi;
  b.start = 1000;
  b.end = 2000;
  b.event = static_cast<uint8_t>(prof::SampleEvent::kNmiTimer);
  return b;
}

prof::Sample good() {
  prof::Sample s;
  s.header.cpu = 3;
  s.header.tid = 7;
  s.header.timestamp = 1500;
  s.header.flags = prof::sample_flags::with_walk_end(prof::sample_flags::make(prof::SampleMode::kThread, false),
                                                     prof::WalkEnd::kZeroFrame);
  s.header.event = static_cast<uint8_t>(prof::SampleEvent::kNmiTimer);
  s.n_pcs = 3;
  s.pcs[0] = kLo + 0x10;
  s.pcs[1] = kLo + 0x2000;
  s.pcs[2] = kHi;  // a return address one past the last function
  return s;
}

std::string problem(const prof::Sample& s) {
  const char* p = sample_problem(s, bounds());
  return p == nullptr ? "" : p;
}

TEST(SampleCheck, WellFormedSamplesPass) {
  EXPECT_EQ(problem(good()), "");
  prof::Sample idle = good();
  idle.header.flags = prof::sample_flags::make(prof::SampleMode::kIdle, false);  // no walk recorded
  idle.n_pcs = 1;
  EXPECT_EQ(problem(idle), "");
  prof::Sample full = good();
  full.n_pcs = prof::kMaxSamplePcs;
  for (auto& pc : full.pcs) pc = kLo;
  full.header.flags |= prof::sample_flags::kTruncated;
  full.header.timestamp = 2000;  // the bounds are inclusive
  EXPECT_EQ(problem(full), "");
}

TEST(SampleCheck, EachBadFieldIsNamed) {
  prof::Sample s = good();
  s.header.cpu = 4;
  EXPECT_EQ(problem(s), "cpu out of range");
  s = good();
  s.n_pcs = 0;
  EXPECT_EQ(problem(s), "no pcs");
  s = good();
  s.n_pcs = prof::kMaxSamplePcs + 1;
  EXPECT_EQ(problem(s), "more pcs than a record holds");
  s = good();
  s.header.event = static_cast<uint8_t>(prof::SampleEvent::kTimer);
  EXPECT_EQ(problem(s), "another event");
  s = good();
  s.header.flags |= prof::sample_flags::kUser;
  EXPECT_EQ(problem(s), "user mode");
  s = good();
  s.header.flags = 3;  // mode 3 does not exist
  EXPECT_EQ(problem(s), "unknown mode");
  s = good();
  s.header.flags |= 1u << 9;
  EXPECT_EQ(problem(s), "unknown flag bits");
  s = good();
  s.header.timestamp = 999;
  EXPECT_EQ(problem(s), "timestamp outside the profile");
  s.header.timestamp = 2001;
  EXPECT_EQ(problem(s), "timestamp outside the profile");
  s = good();
  s.pcs[0] = kLo - 1;
  EXPECT_EQ(problem(s), "rip outside kernel text");
  s = good();
  s.pcs[2] = kHi + 1;
  EXPECT_EQ(problem(s), "return address outside kernel text");
  s = good();
  s.pcs[1] = 0;
  EXPECT_EQ(problem(s), "return address outside kernel text");
}

}  // namespace
}  // namespace torture
