#include "src/monitor/line_editor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

struct Harness {
  std::string echoed;
  std::vector<std::string> lines;
  static void write(void* ctx, const char* b, size_t n) {
    static_cast<Harness*>(ctx)->echoed.append(b, n);
  }
  monitor::LineEditor<16> ed{base::Sink{&Harness::write, this}};
  void type(const std::string& s) {
    for (char c : s)
      if (ed.feed(c)) lines.emplace_back(ed.line().data(), ed.line().size());
  }
};

TEST(LineEditor, EchoesAndEndsOnCrOrLf) {
  Harness h;
  h.type("help\rcpus\n");
  ASSERT_EQ(h.lines.size(), 2u);
  EXPECT_EQ(h.lines[0], "help");
  EXPECT_EQ(h.lines[1], "cpus");
  EXPECT_EQ(h.echoed, "help\ncpus\n");
}

TEST(LineEditor, CrLfIsOneLineEnd) {
  Harness h;
  h.type("a\r\nb\r\n\r\n");
  ASSERT_EQ(h.lines.size(), 3u);
  EXPECT_EQ(h.lines[0], "a");
  EXPECT_EQ(h.lines[1], "b");
  EXPECT_EQ(h.lines[2], "");
}

TEST(LineEditor, BackspaceErases) {
  Harness h;
  h.type("hex\x7fl\blp\n");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], "help");
  EXPECT_EQ(h.echoed, "hex\b \bl\b \blp\n");
  Harness empty;
  empty.type("\b\b\n");
  EXPECT_EQ(empty.lines[0], "");
  EXPECT_EQ(empty.echoed, "\n") << "nothing to erase, nothing echoed";
}

TEST(LineEditor, DropsControlBytesAndOverflow) {
  Harness h;
  h.type("a\x01\x1b" "b0123456789abcdefgh\n");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], "ab0123456789abc");  // capacity 16 keeps 15 bytes
}

}  // namespace
