// The line editor fed the bytes real terminals sent (xterm, tmux, GNU
// screen, captured by tools/terminal_capture into testdata/keys): each
// editing story runs once per capture, with that terminal's bytes for every
// key, and every key of every capture is pressed by some story.
#include <gtest/gtest.h>

#include <cctype>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/monitor/line_editor.h"
#include "src/monitor/testing/terminal_keys.h"

namespace {

using monitor::testing::TerminalKeys;

// Completes command names, and suite names after `test`.
void complete(void*, base::StrView command, base::StrView, monitor::Completions* out) {
  if (command.empty()) {
    for (const char* n : {"help", "heap", "threads", "test", "version"}) out->add(n);
  } else if (command == "test") {
    for (const char* n : {"sched", "mm"}) out->add(n);
  }
}

// One editor typed at through one terminal's captured keys.
class Terminal {
 public:
  explicit Terminal(const TerminalKeys& keys) : keys_(keys) {}
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Presses the keys named, space-separated ("a b Left X Enter"); a word
  // of the form 'text' types its printable ASCII as it stands (each such
  // byte is what the terminal sends for it; the captures show this for a
  // sample of them).
  void press(const std::string& names) {
    size_t i = 0;
    while (i < names.size()) {
      size_t j = names.find(' ', i);
      if (names[i] == '\'') j = names.find('\'', i + 1) + 1;
      if (j == std::string::npos || j == 0) j = names.size();
      const std::string word = names.substr(i, j - i);
      i = j + 1;
      if (word.front() == '\'') {
        feed(word.substr(1, word.size() - 2));
        continue;
      }
      const std::string bytes = keys_.bytes(word);
      ASSERT_FALSE(bytes.empty()) << keys_.file << " has no key " << word;
      used_.insert(word);
      feed(bytes);
    }
  }

  // Presses, then returns (and forgets) what the editor echoed.
  std::string echo_of(const std::string& names) {
    echoed_.clear();
    press(names);
    return echoed_;
  }

  const std::vector<std::string>& lines() const { return lines_; }
  std::string line() const { return std::string(ed_.line().data(), ed_.line().size()); }
  size_t cursor() const { return ed_.cursor(); }
  const std::set<std::string>& used() const { return used_; }

 private:
  static void write(void* ctx, const char* b, size_t n) { static_cast<Terminal*>(ctx)->echoed_.append(b, n); }

  void feed(const std::string& bytes) {
    for (char c : bytes)
      if (ed_.feed(c)) lines_.emplace_back(ed_.line().data(), ed_.line().size());
  }

  const TerminalKeys& keys_;
  std::string echoed_;
  std::vector<std::string> lines_;
  std::set<std::string> used_;
  monitor::LineEditor<64, 4> ed_{base::Sink{&Terminal::write, this}, "> ", {&complete, nullptr}};
};

// The keys each capture's stories pressed, by file.
std::map<std::string, std::set<std::string>>& pressed() {
  static std::map<std::string, std::set<std::string>> m;
  return m;
}

class LineEditorOnTerminal : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_EQ(monitor::testing::load_terminal_keys(GetParam(), &keys_), ""); }
  void TearDown() override {
    for (const Terminal& t : terminals_) pressed()[GetParam()].insert(t.used().begin(), t.used().end());
  }

  // A fresh editor on this terminal; the keys it pressed count as used.
  Terminal& fresh() { return terminals_.emplace_back(keys_); }

  TerminalKeys keys_;
  std::deque<Terminal> terminals_;  // a deque: an editor's sink points at its Terminal
};

std::string name_of(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param.substr(info.param.rfind('/') + 1);
  n = n.substr(0, n.find('.'));
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

TEST_P(LineEditorOnTerminal, TypedTextAndEnter) {
  Terminal& t = fresh();
  EXPECT_EQ(t.echo_of("a b c Space X Semicolon"), "abc X;");
  t.press("Enter");
  ASSERT_EQ(t.lines().size(), 1u);
  EXPECT_EQ(t.lines()[0], "abc X;");
}

TEST_P(LineEditorOnTerminal, LeftRightInsertInTheMiddle) {
  Terminal& t = fresh();
  t.press("a b c");
  EXPECT_EQ(t.echo_of("Left Left"), "\b\b");
  EXPECT_EQ(t.echo_of("X"), "Xbc\b\b");
  EXPECT_EQ(t.echo_of("Right"), "b");
  t.press("X Enter");
  EXPECT_EQ(t.lines().back(), "aXbXc");

  Terminal& ctrl = fresh();
  ctrl.press("a b c C-b C-b X C-f X Enter");
  EXPECT_EQ(ctrl.lines().back(), "aXbXc") << "Ctrl-B/F as Left/Right";
}

// xterm and tmux send Ctrl- and Shift-arrows as CSI 1 ; m x: the editor
// binds no word motion, so they move one character like the plain arrow.
TEST_P(LineEditorOnTerminal, ModifiedArrowsMoveOneCharacter) {
  Terminal& t = fresh();
  t.press("a b c C-Left X S-Left S-Left 'Y' S-Right C-Right Semicolon Enter");
  EXPECT_EQ(t.lines().back(), "aYbX;c");
}

TEST_P(LineEditorOnTerminal, HomeAndEnd) {
  for (const char* keys : {"Home 'a' End 'd' Enter", "C-a 'a' C-e 'd' Enter"}) {
    Terminal& t = fresh();
    t.press("b c");
    t.press(keys);
    EXPECT_EQ(t.lines().back(), "abcd") << keys;
  }
  Terminal& t = fresh();
  t.press("a b c");
  EXPECT_EQ(t.echo_of("Home"), "\b\b\b");
  EXPECT_EQ(t.cursor(), 0u);
  EXPECT_EQ(t.echo_of("End"), "abc");
  EXPECT_EQ(t.cursor(), 3u);
}

TEST_P(LineEditorOnTerminal, BackspaceAndDelete) {
  for (const char* erase_left : {"Backspace", "C-h"}) {
    Terminal& t = fresh();
    t.press("a b c Left");
    EXPECT_EQ(t.echo_of(erase_left), "\bc \b\b") << erase_left;
    t.press("Enter");
    EXPECT_EQ(t.lines().back(), "ac") << erase_left;
  }
  for (const char* erase_under : {"Delete", "C-d"}) {
    Terminal& t = fresh();
    t.press("a b c Home");
    EXPECT_EQ(t.echo_of(erase_under), "bc \b\b\b") << erase_under;
    EXPECT_EQ(t.echo_of(std::string("End ") + erase_under), "bc") << "nothing under the cursor at the end";
    t.press("Enter");
    EXPECT_EQ(t.lines().back(), "bc") << erase_under;
  }
}

TEST_P(LineEditorOnTerminal, KillKeys) {
  Terminal& t = fresh();
  t.press("'ab cd' C-w");
  EXPECT_EQ(t.line(), "ab ");
  t.press("'xy' Left C-u");
  EXPECT_EQ(t.line(), "y");
  EXPECT_EQ(t.cursor(), 0u);
  t.press("'ab' C-k Enter");
  EXPECT_EQ(t.lines().back(), "ab");
}

TEST_P(LineEditorOnTerminal, HistoryUpAndDown) {
  Terminal& t = fresh();
  t.press("'one' Enter 'two' Enter 'dr'");
  EXPECT_EQ(t.echo_of("Up"), "\b\btwo");
  t.press("Up");
  EXPECT_EQ(t.line(), "one");
  t.press("Down");
  EXPECT_EQ(t.line(), "two");
  t.press("Down");
  EXPECT_EQ(t.line(), "dr") << "below the newest: the line being typed";
  t.press("C-p C-p C-n");
  EXPECT_EQ(t.line(), "two");
  t.press("C-Up");
  EXPECT_EQ(t.line(), "one") << "Ctrl-Up is Up";
  t.press("X Enter Up Enter");
  EXPECT_EQ(t.lines(), (std::vector<std::string>{"one", "two", "oneX", "oneX"}));
}

TEST_P(LineEditorOnTerminal, TabCompletes) {
  Terminal& t = fresh();
  EXPECT_EQ(t.echo_of("'th' Tab"), "threads ");
  t.press("Enter 'test s' Tab Enter");
  EXPECT_EQ(t.lines(), (std::vector<std::string>{"threads ", "test sched "}));
  EXPECT_EQ(t.echo_of("'h' Tab Tab"), "he\nhelp  heap  \n> he");
}

TEST_P(LineEditorOnTerminal, CtrlCCancels) {
  Terminal& t = fresh();
  t.press("'rebo' Left");
  EXPECT_EQ(t.echo_of("C-c"), "o^C\n> ");
  EXPECT_EQ(t.line(), "");
  t.press("'help' Enter");
  EXPECT_EQ(t.lines(), std::vector<std::string>{"help"}) << "the cancelled line never ran";
}

// Keys the editor does not bind (Insert, PageUp, F1, F5, Shift-Tab, Alt-b
// as ESC b or as a UTF-8 character) do nothing: no text, no echo.
TEST_P(LineEditorOnTerminal, UnboundKeysAreIgnoredWhole) {
  for (const char* key : {"Insert", "PageUp", "F1", "F5", "S-Tab", "M-b"}) {
    Terminal& t = fresh();
    t.press("a b Left");
    EXPECT_EQ(t.echo_of(key), "") << key;
    t.press("c Enter");
    EXPECT_EQ(t.lines().back(), "acb") << key;
  }
}

// A pasted block, "echo one\necho two\n": the terminals send its line ends
// as CR, and with bracketed paste on wrap it in ESC [ 200 ~ ... ESC [ 201 ~,
// which the editor drops.
TEST_P(LineEditorOnTerminal, PastedLinesRunInOrder) {
  Terminal& t = fresh();
  t.press("Paste");
  EXPECT_EQ(t.lines(), (std::vector<std::string>{"echo one", "echo two"}));
  t.press("a Enter");
  EXPECT_EQ(t.lines().back(), "a") << "nothing of the paste left behind";
}

std::vector<std::string> captures() { return monitor::testing::capture_files(); }

// After a full run, every key of every capture was pressed by some story:
// a key captured but never replayed would be a capture that tests nothing.
class EveryKeyPressed : public ::testing::Environment {
 public:
  void TearDown() override {
    const ::testing::UnitTest& u = *::testing::UnitTest::GetInstance();
    if (u.test_to_run_count() != u.total_test_count()) return;  // a --gtest_filter run
    EXPECT_FALSE(captures().empty());
    for (const std::string& f : captures()) {
      for (const std::string& k : monitor::testing::capture_key_names()) {
        EXPECT_TRUE(pressed()[f].count(k)) << f << ": key " << k << " is pressed by no story";
      }
    }
  }
};
const auto* const kEveryKeyPressed = ::testing::AddGlobalTestEnvironment(new EveryKeyPressed);

INSTANTIATE_TEST_SUITE_P(Captures, LineEditorOnTerminal, ::testing::ValuesIn(captures()), name_of);

}  // namespace
