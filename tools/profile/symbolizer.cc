// parse_symbolizer_output and run_symbolizer: see symbolizer.h.
#include "tools/profile/symbolizer.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/profile/json.h"

namespace profile {
namespace {

// [llvm-symbolizer] writes "??" for an unknown function or file (and "" in
// some fields of the JSON style); both mean unknown here.
std::string known(const JsonValue* v) {
  if (v == nullptr || v->kind != JsonValue::Kind::kString || v->string == "??") return "";
  return v->string;
}

bool parse_hex_address(std::string_view s, uint64_t* out) {
  if (s.substr(0, 2) != "0x" || s.size() == 2) return false;
  const auto r = std::from_chars(s.data() + 2, s.data() + s.size(), *out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string hex(uint64_t a) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a));
  return buf;
}

// A temporary file removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(const char* stem) {
    std::string t = (std::filesystem::temp_directory_path() / stem).string() + ".XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    const int fd = mkstemp(buf.data());
    if (fd >= 0) {
      close(fd);
      path_ = buf.data();
    }
  }
  ~TempFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }  // empty if it could not be made

 private:
  std::string path_;
};

}  // namespace

bool parse_symbolizer_output(std::string_view output, const std::vector<uint64_t>& addrs, std::vector<Symbol>* symbols,
                             std::string* error) {
  symbols->clear();
  size_t pos = 0, line_no = 0;
  while (pos < output.size()) {
    size_t nl = output.find('\n', pos);
    if (nl == std::string_view::npos) nl = output.size();
    const std::string_view line = output.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    const auto fail = [&](const std::string& why) {
      *error = "llvm-symbolizer output line " + std::to_string(line_no) + ": " + why;
      return false;
    };
    JsonValue v;
    std::string json_error;
    if (!parse_json(line, &v, &json_error)) return fail(json_error);
    const size_t i = symbols->size();
    if (i >= addrs.size()) return fail("more answers than the " + std::to_string(addrs.size()) + " addresses asked");
    const JsonValue* address = v.get("Address");
    uint64_t a = 0;
    if (address == nullptr || !parse_hex_address(address->string, &a) || a != addrs[i])
      return fail("answers for another address than " + hex(addrs[i]));
    if (const JsonValue* e = v.get("Error")) {
      const JsonValue* m = e->get("Message");
      return fail("llvm-symbolizer: " + (m != nullptr ? m->string : std::string("error")) + " (" +
                  known(v.get("ModuleName")) + ")");
    }
    const JsonValue* frames = v.get("Symbol");
    if (frames == nullptr || frames->kind != JsonValue::Kind::kArray)
      return fail("no Symbol list (an error from llvm-symbolizer?)");
    Symbol s;
    for (const JsonValue& f : frames->items) {
      Frame fr{.function = known(f.get("FunctionName")), .file = known(f.get("FileName"))};
      const JsonValue* l = f.get("Line");
      if (l != nullptr && l->kind == JsonValue::Kind::kNumber && l->number > 0)
        fr.line = static_cast<int64_t>(l->number);
      // A frame without a function name tells nothing a flame graph or
      // pprof can show; an address with only such frames is unknown.
      if (!fr.function.empty()) s.frames.push_back(std::move(fr));
    }
    symbols->push_back(std::move(s));
  }
  if (symbols->size() != addrs.size()) {
    *error = "llvm-symbolizer answered " + std::to_string(symbols->size()) + " of " + std::to_string(addrs.size()) +
             " addresses";
    return false;
  }
  return true;
}

bool run_symbolizer(const std::string& tool, const std::string& elf, const std::vector<uint64_t>& addrs,
                    std::vector<Symbol>* symbols, std::string* error) {
  // Files rather than pipes: the whole input is written before the tool
  // starts, so neither side can block on a full pipe.
  TempFile in("profile-addrs"), out("profile-symbols");
  if (in.path().empty() || out.path().empty()) {
    *error = "cannot create a temporary file: " + std::string(std::strerror(errno));
    return false;
  }
  {
    std::ofstream f(in.path());
    for (uint64_t a : addrs) f << hex(a) << '\n';
    if (!f) {
      *error = "cannot write " + in.path();
      return false;
    }
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.path().c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.path().c_str(), O_WRONLY | O_TRUNC, 0);
  const std::string obj = "--obj=" + elf;
  const char* argv[] = {tool.c_str(), obj.c_str(), "--inlines", "--demangle", "--output-style=JSON", nullptr};
  pid_t pid;
  const int rc = posix_spawnp(&pid, tool.c_str(), &fa, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    *error = "cannot run " + tool + ": " + std::strerror(rc) + " (llvm-14 is installed by tools/bazel)";
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = tool +
             (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                : " was killed by signal " + std::to_string(WTERMSIG(status))) +
             " on " + elf;
    return false;
  }
  std::ifstream f(out.path());
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_symbolizer_output(ss.str(), addrs, symbols, error);
}

}  // namespace profile
