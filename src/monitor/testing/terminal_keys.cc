#include "src/monitor/testing/terminal_keys.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace monitor::testing {
namespace {

constexpr std::string_view kDir = "src/monitor/testdata/keys";

std::string runfile(std::string_view repo_relative_path) {
  std::string path(repo_relative_path);
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    const char* ws = std::getenv("TEST_WORKSPACE");
    path = std::string(srcdir) + "/" + (ws ? ws : "biscotti") + "/" + path;
  }
  return path;
}

bool is_hex_byte(std::string_view t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return t.size() == 2 && hex(t[0]) && hex(t[1]);
}

bool is_timestamp(std::string_view t) {  // YYYY-MM-DDTHH:MM:SSZ
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (t.size() != kShape.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (kShape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != kShape[i]) return false;
  }
  return true;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& capture_key_names() {
  static const std::vector<std::string> names = {
      "a",      "b",       "c",      "X",         "Space",  "Semicolon", "Up",  "Down",  "Left",   "Right",
      "Home",   "End",     "Delete", "Backspace", "Tab",    "Enter",     "C-a", "C-b",   "C-c",    "C-d",
      "C-e",    "C-f",     "C-h",    "C-k",       "C-n",    "C-p",       "C-u", "C-w",   "C-Left", "C-Right",
      "S-Left", "S-Right", "C-Up",   "Insert",    "PageUp", "F1",        "F5",  "S-Tab", "M-b",    "Paste",
  };
  return names;
}

const std::vector<std::string>& capture_header_names() {
  static const std::vector<std::string> names = {"terminal", "version", "TERM", "mode", "keys", "captured", "command"};
  return names;
}

std::string TerminalKeys::bytes(std::string_view name) const {
  for (const auto& [n, b] : keys)
    if (n == name) return b;
  return "";
}

std::string parse_terminal_keys(std::string_view text, std::string file, TerminalKeys* out) {
  *out = TerminalKeys{};
  out->file = std::move(file);
  const auto& headers = capture_header_names();
  const auto& names = capture_key_names();
  size_t line_no = 0;
  auto fail = [&](const std::string& what) { return out->file + ":" + std::to_string(line_no) + ": " + what; };
  if (text.empty() || text.back() != '\n') return fail("empty, or the last line has no newline");
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (line.empty()) return fail("an empty line");
    if (line.back() == ' ' || line.back() == '\r') return fail("trailing blank");
    if (line[0] == '#') {
      if (!out->keys.empty()) return fail("a header line after the keys");
      if (line.substr(0, 2) != "# ") return fail("a header line is '# name: value'");
      const size_t colon = line.find(": ");
      if (colon == std::string_view::npos || colon + 2 >= line.size()) {
        return fail("a header line is '# name: value', with a value");
      }
      const std::string name(line.substr(2, colon - 2));
      const size_t at = out->header.size();
      if (at >= headers.size() || headers[at] != name) {
        return fail("header '" + name + "' where '" + (at < headers.size() ? headers[at] : "the keys") + "' belongs");
      }
      out->header[name] = std::string(line.substr(colon + 2));
      if (name == "captured" && !is_timestamp(out->header[name])) {
        return fail("captured is not YYYY-MM-DDTHH:MM:SSZ: '" + out->header[name] + "'");
      }
      continue;
    }
    if (out->header.size() != headers.size()) {
      return fail("the header ends before '" + headers[out->header.size()] + "'");
    }
    const std::vector<std::string_view> words = split_spaces(line);
    const size_t at = out->keys.size();
    const std::string name(words[0]);
    if (at >= names.size()) return fail("key '" + name + "' after the last one, " + names.back());
    if (name != names[at]) return fail("key '" + name + "' where '" + names[at] + "' belongs");
    if (words.size() < 2) return fail("key " + name + " has no bytes");
    std::string bytes;
    for (size_t i = 1; i < words.size(); ++i) {
      if (!is_hex_byte(words[i])) return fail("key " + name + ": '" + std::string(words[i]) + "' is not a hex byte");
      bytes.push_back(static_cast<char>(std::strtoul(std::string(words[i]).c_str(), nullptr, 16)));
    }
    out->keys.emplace_back(name, bytes);
  }
  if (out->header.size() != headers.size()) return fail("no keys, or the header is incomplete");
  if (out->keys.size() != names.size()) return fail("ends before key " + names[out->keys.size()]);
  return "";
}

std::vector<std::string> capture_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(runfile(kDir), ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".keys") out.push_back(std::string(kDir) + "/" + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string load_terminal_keys(const std::string& repo_relative_path, TerminalKeys* out) {
  std::ifstream in(runfile(repo_relative_path), std::ios::binary);
  if (!in) return repo_relative_path + ": cannot be read";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_terminal_keys(text, repo_relative_path, out);
}

}  // namespace monitor::testing
