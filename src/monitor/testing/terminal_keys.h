// Host-test helper: a terminal capture (src/monitor/testdata/keys/*.keys,
// recorded by tools/terminal_capture), the exact bytes one real terminal
// sent for each key of a fixed script, and its parser and checker.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace monitor::testing {

/// The keys every capture holds, in the order capture.py presses them
/// (tools/terminal_capture/capture.py's KEYS, then the paste).
const std::vector<std::string>& capture_key_names();

/// The header fields every capture has (`# name: value`), in order.
const std::vector<std::string>& capture_header_names();

struct TerminalKeys {
  std::string file;                                       // for messages
  std::map<std::string, std::string> header;              // "terminal" -> "xterm"
  std::vector<std::pair<std::string, std::string>> keys;  // name -> bytes, in file order

  /// The bytes of key `name`; an empty string if the capture lacks it.
  std::string bytes(std::string_view name) const;
};

/// Parses and checks one capture: the header fields of
/// capture_header_names() in that order, each once and non-empty, `captured`
/// as YYYY-MM-DDTHH:MM:SSZ; then one line per key, `NAME HH HH ...`
/// (lowercase hex, at least one byte), each of capture_key_names() once, in
/// that order, and nothing else. Returns "" or what is wrong, with the line.
std::string parse_terminal_keys(std::string_view text, std::string file, TerminalKeys* out);

/// The repository-relative paths of every capture under
/// src/monitor/testdata/keys (from the runfiles tree under Bazel), sorted.
std::vector<std::string> capture_files();

/// Reads and parses one capture; "" or what is wrong.
std::string load_terminal_keys(const std::string& repo_relative_path, TerminalKeys* out);

}  // namespace monitor::testing
