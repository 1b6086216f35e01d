#include "src/monitor/read_ahead.h"

#include <gtest/gtest.h>

#include <string>

namespace {

struct Source {
  std::string bytes;
  size_t at = 0;
  static int read(void* ctx) {
    auto* s = static_cast<Source*>(ctx);
    return s->at < s->bytes.size() ? static_cast<unsigned char>(s->bytes[s->at++]) : -1;
  }
};

std::string drain(monitor::ReadAhead<8>& r) {
  std::string out;
  for (int c; (c = r.pop()) >= 0;) out += static_cast<char>(c);
  return out;
}

TEST(ReadAhead, CtrlCIsTakenOutAndTheRestKeptInOrder) {
  Source src{
      "ab\x03"
      "cd"};
  monitor::ReadAhead<8> r;
  r.fill(&Source::read, &src);
  EXPECT_TRUE(r.take(0x03));
  EXPECT_FALSE(r.take(0x03)) << "one Ctrl-C interrupts once";
  EXPECT_EQ(drain(r), "abcd");
}

TEST(ReadAhead, StopsWhenFullAndLeavesTheRestInTheSource) {
  Source src{"0123456789\x03"};
  monitor::ReadAhead<8> r;
  r.fill(&Source::read, &src);
  EXPECT_EQ(r.size(), 8u);
  EXPECT_FALSE(r.take(0x03)) << "not read yet";
  EXPECT_EQ(r.pop(), '0');
  r.fill(&Source::read, &src);
  EXPECT_EQ(r.size(), 8u);
  EXPECT_EQ(src.at, 9u);
  EXPECT_EQ(drain(r), "12345678");
  r.fill(&Source::read, &src);
  EXPECT_TRUE(r.take(0x03));
  EXPECT_EQ(r.pop(), '9');
  EXPECT_EQ(r.pop(), -1);
}

TEST(ReadAhead, HighBytesComeBackUnsigned) {
  Source src{"\xff"};
  monitor::ReadAhead<8> r;
  r.fill(&Source::read, &src);
  EXPECT_EQ(r.pop(), 0xff);
}

}  // namespace
