// The capture parser on made-up text, and every checked-in capture under
// src/monitor/testdata/keys well formed.
#include "src/monitor/testing/terminal_keys.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using monitor::testing::capture_files;
using monitor::testing::capture_key_names;
using monitor::testing::load_terminal_keys;
using monitor::testing::parse_terminal_keys;
using monitor::testing::TerminalKeys;

const std::string kHeader =
    "# terminal: xterm\n"
    "# version: XTerm(379)\n"
    "# TERM: xterm\n"
    "# mode: normal\n"
    "# keys: xdotool\n"
    "# captured: 2026-12-03T20:13:48Z\n"
    "# command: tools/terminal_capture/capture.sh\n";

// Every key, each sending one byte 'x' except Up (ESC [ A).
std::string all_keys() {
  std::string s;
  for (const std::string& n : capture_key_names()) s += n + (n == "Up" ? " 1b 5b 41\n" : "  78\n");
  return s;
}

std::string parse_error(const std::string& text) {
  TerminalKeys k;
  return parse_terminal_keys(text, "t.keys", &k);
}

TEST(TerminalKeys, ParsesHeaderAndBytes) {
  TerminalKeys k;
  ASSERT_EQ(parse_terminal_keys(kHeader + all_keys(), "t.keys", &k), "");
  EXPECT_EQ(k.header.at("version"), "XTerm(379)");
  EXPECT_EQ(k.header.at("TERM"), "xterm");
  EXPECT_EQ(k.bytes("Up"), "\x1b[A");
  EXPECT_EQ(k.bytes("Paste"), "x");
  EXPECT_EQ(k.bytes("Nonesuch"), "");
  EXPECT_EQ(k.keys.size(), capture_key_names().size());
}

TEST(TerminalKeys, RejectsWhatIsNotAWellFormedCapture) {
  const std::string keys = all_keys();
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  EXPECT_EQ(parse_error(""), "t.keys:0: empty, or the last line has no newline");
  EXPECT_EQ(parse_error(kHeader), "t.keys:7: ends before key a");
  EXPECT_EQ(parse_error(replace(kHeader, "# version: XTerm(379)\n", "") + keys),
            "t.keys:2: header 'TERM' where 'version' belongs");
  EXPECT_EQ(parse_error(replace(kHeader, "2026-12-03T20:13:48Z", "yesterday") + keys),
            "t.keys:6: captured is not YYYY-MM-DDTHH:MM:SSZ: 'yesterday'");
  EXPECT_EQ(parse_error(replace(kHeader, "# mode: normal\n", "# mode:\n") + keys),
            "t.keys:4: a header line is '# name: value', with a value");
  EXPECT_EQ(parse_error(replace(kHeader, "# command: tools/terminal_capture/capture.sh\n", "") + keys),
            "t.keys:7: the header ends before 'command'");
  EXPECT_EQ(parse_error(kHeader + replace(keys, "Up 1b 5b 41", "Up 1b 5b 4")),
            "t.keys:14: key Up: '4' is not a hex byte");
  EXPECT_EQ(parse_error(kHeader + replace(keys, "Up 1b 5b 41", "Up 1B 5B 41")),
            "t.keys:14: key Up: '1B' is not a hex byte");
  EXPECT_EQ(parse_error(kHeader + replace(keys, "Up 1b 5b 41", "Up")), "t.keys:14: key Up has no bytes");
  EXPECT_EQ(parse_error(kHeader + replace(keys, "Up 1b 5b 41\n", "")), "t.keys:14: key 'Down' where 'Up' belongs");
  EXPECT_EQ(parse_error(kHeader + replace(keys, "Paste  78\n", "")), "t.keys:46: ends before key Paste");
  EXPECT_EQ(parse_error(kHeader + keys + "Extra 78\n"), "t.keys:48: key 'Extra' after the last one, Paste");
  EXPECT_EQ(parse_error(kHeader + keys + "# late: header\n"), "t.keys:48: a header line after the keys");
  EXPECT_EQ(parse_error(kHeader + replace(keys, "Up 1b 5b 41\n", "Up 1b 5b 41 \n")), "t.keys:14: trailing blank");
  EXPECT_EQ(parse_error(kHeader + "\n" + keys), "t.keys:8: an empty line");
  EXPECT_EQ(parse_error(kHeader + keys.substr(0, keys.size() - 1)), "t.keys:0: empty, or the last line has no newline");
}

// Every capture checked in parses, and the set covers the terminals the
// README names: xterm, tmux and GNU screen (also as a serial console).
TEST(TerminalKeys, EveryCaptureIsWellFormed) {
  const std::vector<std::string> files = capture_files();
  ASSERT_GE(files.size(), 4u) << "captures not found in the runfiles";
  std::set<std::string> terminals;
  for (const std::string& f : files) {
    TerminalKeys k;
    EXPECT_EQ(load_terminal_keys(f, &k), "");
    terminals.insert(k.header["terminal"].substr(0, k.header["terminal"].find(' ')));
    for (const auto& [name, bytes] : k.keys) {
      if (name.size() == 1 || name == "Space" || name == "Semicolon") {
        EXPECT_EQ(bytes.size(), 1u) << f << ": " << name << ": a printable key sends itself";
      }
    }
  }
  EXPECT_TRUE(terminals.count("xterm")) << "no xterm capture";
  EXPECT_TRUE(terminals.count("tmux")) << "no tmux capture";
  EXPECT_TRUE(terminals.count("GNU")) << "no GNU screen capture";
}

}  // namespace
