// Fuzz target for the monitor's input path (tools/fuzz.bzl): the line
// editor (keys, escape sequences, history, Tab completion), then the
// command split and lookup, seeded with the boot tests' `run=` scripts
// typed as serial input (fuzz_corpus/line_editor, tools/fuzz/make_seeds.py).
// The input is the bytes received. Checked against the echo, through a
// one-row terminal: after every byte the row shows the prompt and exactly
// the line the editor holds, with the cursor where the editor says, so the
// user never sees one command and runs another.
#include <cstddef>
#include <cstdint>
#include <string>

#include "src/base/testing/fuzz_check.h"
#include "src/monitor/command.h"
#include "src/monitor/command_table.h"
#include "src/monitor/completions.h"
#include "src/monitor/line_editor.h"

namespace {

using base::StrView;

// One terminal row, as the echo draws it (wide enough: line_editor.h
// assumes the prompt and line fit).
struct Terminal {
  std::string row;
  size_t col = 0;
};

void draw(void* ctx, const char* bytes, size_t n) {
  auto* t = static_cast<Terminal*>(ctx);
  for (size_t i = 0; i < n; ++i) {
    const char c = bytes[i];
    if (c == '\n') {
      t->row.clear();
      t->col = 0;
    } else if (c == '\b') {
      FUZZ_CHECK(t->col > 0);
      --t->col;
    } else {
      FUZZ_CHECK(c >= 0x20 && c <= 0x7e);  // nothing else is ever echoed
      if (t->col == t->row.size()) {
        t->row.push_back(c);
      } else {
        t->row[t->col] = c;
      }
      ++t->col;
    }
  }
}

constexpr char kPrompt[] = "> ";

// The editor's invariant (line_editor.h, "display"): the row shows the
// prompt and the line, then only blanks, with the cursor after the prompt
// plus cursor() bytes.
template <typename Editor>
void check_display(const Terminal& t, const Editor& e) {
  const std::string want = std::string(kPrompt) + std::string(e.line().data(), e.line().size());
  FUZZ_CHECK(t.row.compare(0, want.size(), want) == 0);
  for (size_t i = want.size(); i < t.row.size(); ++i) FUZZ_CHECK(t.row[i] == ' ');
  FUZZ_CHECK(t.col == sizeof(kPrompt) - 1 + e.cursor());
}

bool no_run(StrView) { return true; }

constexpr monitor::Command kCommands[] = {
    {"help", "[NAME]", "", no_run, ""},
    {"prof", "[start|stop]", "", no_run, ""},
    {"cpus", "", "", no_run, ""},
};

void complete(void*, StrView command, StrView, monitor::Completions* out) {
  if (command.size() == 0) {
    for (const monitor::Command& c : kCommands) out->add(c.name);
  } else {
    for (const char* arg : {"start", "stop", "status", "top"}) out->add(arg);
  }
}

void check_command(StrView line) {
  const StrView t = monitor::trim(line);
  FUZZ_CHECK(t.size() <= line.size());
  FUZZ_CHECK(t.size() == 0 || (t[0] != ' ' && t[t.size() - 1] != ' '));
  StrView name, args;
  monitor::split_command(t, &name, &args);
  FUZZ_CHECK(name.data() == t.data() && name.size() <= t.size());
  FUZZ_CHECK(name.find(' ') == StrView::npos);
  FUZZ_CHECK(t.size() == 0 || name.size() > 0);
  if (args.size() > 0) {
    FUZZ_CHECK(args.data() > name.data() + name.size());
    FUZZ_CHECK(args.data() + args.size() <= t.data() + t.size());
    FUZZ_CHECK(args[0] != ' ' && args[args.size() - 1] != ' ');
  }
  const monitor::Command* c = monitor::find_command(kCommands, name);
  FUZZ_CHECK(c == nullptr || StrView(c->name) == name);
}

template <size_t kCapacity, size_t kHistory>
void run(const uint8_t* data, size_t size) {
  Terminal term;
  monitor::LineEditor<kCapacity, kHistory> editor(base::Sink{draw, &term}, kPrompt,
                                                  monitor::Completer{complete, nullptr});
  editor.prompt();
  for (size_t i = 0; i < size; ++i) {
    const std::string before = term.row;
    const bool complete = editor.feed(static_cast<char>(data[i]));
    FUZZ_CHECK(editor.line().size() <= kCapacity - 1);
    FUZZ_CHECK(editor.cursor() <= editor.line().size());
    FUZZ_CHECK(editor.history_size() <= kHistory);
    for (char c : std::string(editor.line().data(), editor.line().size())) {
      FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
    }
    if (complete) {
      // The user saw what runs: the row before Enter held exactly the line.
      const std::string shown = std::string(kPrompt) + std::string(editor.line().data(), editor.line().size());
      FUZZ_CHECK(before.compare(0, shown.size(), shown) == 0);
      check_command(editor.line());
      editor.prompt();  // the monitor's next prompt, after running it
      FUZZ_CHECK(term.row == kPrompt);
    } else {
      check_display(term, editor);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  run<16, 2>(data, size);  // small: the full-buffer and history wrap paths
  run<128, 8>(data, size);
  return 0;
}
