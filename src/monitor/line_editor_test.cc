#include "src/monitor/line_editor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

// The byte streams below are the ones the terminals document: xterm's
// ctlseqs give the cursor keys as CSI (ESC [ A) or, in application cursor
// mode, SS3 (ESC O A), Home/End as ESC [ H / ESC [ F, Delete as ESC [ 3 ~,
// Ctrl-Left as ESC [ 1 ; 5 D, Backspace as DEL (0x7f); the screen and tmux
// terminfo entries (TERM=screen) give Home/End as the VT220 ESC [ 1 ~ and
// ESC [ 4 ~. (Written from the documentation; line_editor_terminals_test
// replays the bytes recorded from those terminals, testdata/keys.)
constexpr const char* kUp = "\x1b[A";
constexpr const char* kDown = "\x1b[B";
constexpr const char* kRight = "\x1b[C";
constexpr const char* kLeft = "\x1b[D";
constexpr const char* kSs3Left = "\x1bOD";
constexpr const char* kHomeXterm = "\x1b[H";
constexpr const char* kEndXterm = "\x1b[F";
constexpr const char* kHomeTmux = "\x1b[1~";
constexpr const char* kEndTmux = "\x1b[4~";
constexpr const char* kDelete = "\x1b[3~";
constexpr const char* kCtrlLeft = "\x1b[1;5D";

struct Harness {
  std::string echoed;
  std::vector<std::string> lines;
  static void write(void* ctx, const char* b, size_t n) { static_cast<Harness*>(ctx)->echoed.append(b, n); }
  monitor::LineEditor<16, 3> ed{base::Sink{&Harness::write, this}, "> "};
  void type(const std::string& s) {
    for (char c : s)
      if (ed.feed(c)) lines.emplace_back(ed.line().data(), ed.line().size());
  }
  // Types, then returns (and forgets) what was echoed.
  std::string echo_of(const std::string& s) {
    echoed.clear();
    type(s);
    return echoed;
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

TEST(LineEditor, IgnoresOtherControlAndNonAsciiBytes) {
  Harness h;
  h.type(
      "a\x0f\x1c\x80\xff"
      "b\n");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], "ab");
  EXPECT_EQ(h.echoed, "ab\n");
}

TEST(LineEditor, EscapeSequencesAreNeverText) {
  for (const char* seq : {kUp, kDown, kRight, kLeft, kSs3Left, kHomeXterm, kEndXterm, kHomeTmux, kEndTmux, kDelete,
                          kCtrlLeft, "\x1b[15~", "\x1b[200~", "\x1bOP", "\x1b[?1;2c",
                          "\x1b"
                          "b"}) {
    Harness h;
    h.type(std::string(seq) + "\n");
    ASSERT_EQ(h.lines.size(), 1u) << seq + 1;
    EXPECT_EQ(h.lines[0], "") << seq + 1;
    EXPECT_EQ(h.echoed, "\n") << seq + 1 << ": nothing to move over, nothing echoed";
  }
}

TEST(LineEditor, LeftRightInsertInTheMiddle) {
  Harness h;
  h.type("hlp");
  EXPECT_EQ(h.echo_of(std::string(kLeft) + kLeft), "\b\b");
  EXPECT_EQ(h.ed.cursor(), 1u);
  // Insert: the new byte and the tail, then back over the tail.
  EXPECT_EQ(h.echo_of("e"), "elp\b\b");
  EXPECT_EQ(h.echo_of(kRight), "l") << "moving right re-sends the byte passed over";
  EXPECT_EQ(h.echo_of(std::string(kRight) + kRight), "p") << "no move past the end";
  h.type("\r");
  EXPECT_EQ(h.lines.back(), "help");
}

TEST(LineEditor, Ss3AndCtrlBFMove) {
  Harness h;
  h.type("ac");
  EXPECT_EQ(h.echo_of(kSs3Left), "\b");
  h.type("b\x02\x02\x06\n");
  EXPECT_EQ(h.lines.back(), "abc");
}

TEST(LineEditor, HomeEndInEveryForm) {
  for (auto [home, end] : {std::pair{kHomeXterm, kEndXterm}, std::pair{kHomeTmux, kEndTmux},
                           std::pair{"\x1bOH", "\x1bOF"}, std::pair{"\x1b[7~", "\x1b[8~"}, std::pair{"\x01", "\x05"}}) {
    Harness h;
    h.type("bc");
    EXPECT_EQ(h.echo_of(home), "\b\b");
    EXPECT_EQ(h.echo_of("a"), "abc\b\b");
    EXPECT_EQ(h.echo_of(end), "bc");
    h.type("d\n");
    EXPECT_EQ(h.lines.back(), "abcd");
  }
}

TEST(LineEditor, BackspaceAndDeleteInTheMiddle) {
  Harness h;
  h.type("abxcd");
  h.type(std::string(kLeft) + kLeft);  // cursor before 'c'
  // Backspace: back one, re-send the tail, blank the old last column, back up.
  EXPECT_EQ(h.echo_of("\x7f"), "\bcd \b\b\b");
  h.type("Xy");
  h.type(kLeft);  // cursor before 'y'
  // Delete: the tail from the cursor, a blank, back up.
  EXPECT_EQ(h.echo_of(kDelete), "cd \b\b\b");
  EXPECT_EQ(h.echo_of("\x04"), "d \b\b") << "Ctrl-D deletes under the cursor too";
  EXPECT_EQ(h.echo_of(std::string(kEndXterm) + kDelete), "d") << "nothing under the cursor at the end";
  h.type("\n");
  EXPECT_EQ(h.lines.back(), "abXd");
}

TEST(LineEditor, KillKeys) {
  Harness h;
  h.type("ab cd  ef");
  EXPECT_EQ(h.echo_of("\x17"), "\b\b  \b\b") << "Ctrl-W: the word before the cursor";
  EXPECT_EQ(h.echo_of("\x17"), "\b\b\b\b    \b\b\b\b") << "Ctrl-W: spaces, then the word";
  h.type("\x01\x06");  // after 'a'
  EXPECT_EQ(h.echo_of("\x0b"), "  \b\b") << "Ctrl-K: to the end";
  h.type("\x05zz\x02");  // "azz", cursor before the last z
  EXPECT_EQ(h.echo_of("\x15"), "\b\bz  \b\b\b") << "Ctrl-U: to the start, the rest slides left";
  h.type("\n");
  EXPECT_EQ(h.lines.back(), "z");
}

TEST(LineEditor, CtrlCCancelsTheLine) {
  Harness h;
  h.type("rebo");
  h.type(kLeft);
  EXPECT_EQ(h.echo_of("\x03"), "o^C\n> ");
  h.type("help\n");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], "help");
}

TEST(LineEditor, OverlongLineIsRefusedWithAMessage) {
  Harness h;
  h.type("0123456789abcdefgh");
  EXPECT_EQ(h.ed.line(), "0123456789abcde") << "capacity 16 keeps 15 bytes";
  EXPECT_EQ(h.echo_of("\r"), "\nline too long: the limit is 15 characters; not run\n> ");
  EXPECT_TRUE(h.lines.empty());
  EXPECT_EQ(h.ed.history_size(), 0u);
  h.type("0123456789abcde\r");
  ASSERT_EQ(h.lines.size(), 1u) << "exactly the limit is fine";
  EXPECT_EQ(h.lines[0], "0123456789abcde");
}

TEST(LineEditor, HistoryWalksAndKeepsTheDraft) {
  Harness h;
  h.type("one\rtwo\r\rtwo\r");
  EXPECT_EQ(h.ed.history_size(), 2u) << "empty lines and a repeat are not stored";
  h.type("dr");
  EXPECT_EQ(h.echo_of(kUp), "\b\btwo");
  EXPECT_EQ(h.echo_of(kUp), "\b\b\bone");
  EXPECT_EQ(h.echo_of(kUp), "") << "no older entry";
  EXPECT_EQ(h.echo_of(kDown), "\b\b\btwo");
  EXPECT_EQ(h.echo_of(kDown), "\b\b\bdr \b") << "below the newest: the draft";
  EXPECT_EQ(h.echo_of(kDown), "");
  h.type("\x10\x10\x0e");  // Ctrl-P twice, Ctrl-N: "two"
  h.type("!\r");
  EXPECT_EQ(h.lines.back(), "two!");
  h.type(std::string(kUp) + "\r");
  EXPECT_EQ(h.lines.back(), "two!") << "the recalled and edited line was stored";
}

TEST(LineEditor, HistoryIsABoundedRing) {
  Harness h;  // 3 entries
  h.type("a\rb\rc\rd\r");
  EXPECT_EQ(h.ed.history_size(), 3u);
  h.type(std::string(kUp) + kUp + kUp + kUp + "\r");
  EXPECT_EQ(h.lines.back(), "b") << "'a' fell out";
}

// Completes command names, and suite names after `test`.
void complete(void*, base::StrView command, base::StrView, monitor::Completions* out) {
  if (command.empty()) {
    for (const char* n : {"help", "heap", "threads", "test", "version"}) out->add(n);
  } else if (command == "test") {
    for (const char* n : {"sched", "mm"}) out->add(n);
  }
}

struct CompletingHarness : Harness {
  CompletingHarness() {
    ed = monitor::LineEditor<16, 3>(base::Sink{&Harness::write, this}, "> ", {&complete, nullptr});
  }
};

TEST(LineEditor, TabCompletesAUniqueName) {
  CompletingHarness h;
  EXPECT_EQ(h.echo_of("th\t"), "threads ");
  h.type("\r");
  EXPECT_EQ(h.lines.back(), "threads ");
  EXPECT_EQ(h.echo_of("test s\t"), "test sched ");
  h.type("\x15");
  EXPECT_EQ(h.echo_of("help; v\t"), "help; version ") << "after ';' a command name again";
  h.type("\x15");
  EXPECT_EQ(h.echo_of("x\t"), "x") << "no candidate: nothing";
}

TEST(LineEditor, TabExtendsToTheCommonPrefixThenLists) {
  CompletingHarness h;
  EXPECT_EQ(h.echo_of("h\t"), "he");
  EXPECT_EQ(h.echo_of("\t"), "\nhelp  heap  \n> he");
  EXPECT_EQ(h.echo_of("l\t"), "lp ");
  // Listing from the middle of a line redraws it and puts the cursor back.
  h.type("\x15");
  h.type("h x");
  h.type(std::string(kLeft) + kLeft);
  EXPECT_EQ(h.echo_of("\t"), "e x\b\b");
  EXPECT_EQ(h.echo_of("\t"), " x\nhelp  heap  \n> he x\b\b");
  EXPECT_EQ(h.echo_of("a\t"), "a x\b\bp x\b\b") << "no second space before the one there";
  h.type("\r");
  EXPECT_EQ(h.lines.back(), "heap x");
}

TEST(LineEditor, AControlByteBreaksAnEscapeSequenceOff) {
  Harness h;
  h.type("ab\x1b\r");
  ASSERT_EQ(h.lines.size(), 1u) << "ESC then Enter still ends the line";
  EXPECT_EQ(h.lines[0], "ab");
  h.type("cd\x1b[1\x7f\r");
  EXPECT_EQ(h.lines.back(), "c");
}

TEST(LineEditor, CompletionsKeepsMatchesAndTheirCommonPrefix) {
  monitor::Completions c("re", base::Sink{nullptr, nullptr});
  c.add("reboot");
  c.add("help");
  c.add("res");
  EXPECT_EQ(c.count(), 2u);
  EXPECT_EQ(c.common(), "re");
}

}  // namespace

namespace {

// The session test/BUILD.bazel's monitor_line_editor types, line by line.
TEST(LineEditor, TheBootTestSession) {
  CompletingHarness h;
  h.type("junk\x15help uptme\x1b[D\x1b[Di\r");
  h.type("\x1b[A\x17threads\r");
  h.type("xx\x03");
  h.type("heap; help\r");
  h.type("vers\t\r");
  ASSERT_EQ(h.lines.size(), 4u);
  EXPECT_EQ(h.lines[0], "help uptime");
  EXPECT_EQ(h.lines[1], "help threads");
  EXPECT_EQ(h.lines[2], "heap; help");
  EXPECT_EQ(h.lines[3], "version ");
}

}  // namespace
