// Fuzz target for the `prof dump` text parser (tools/fuzz.bzl), seeded with
// the dump_parser_test examples (fuzz_corpus/dump, tools/fuzz/make_seeds.py;
// no serial log of a real dump is checked in). The input is a serial log,
// any bytes. Checked beyond "no crash": a parsed capture keeps every rule
// of docs/profile_dump_format.md (v1) that the parser promises to check;
// a refusal always comes with a message.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/base/testing/fuzz_check.h"
#include "tools/profile/dump_parser.h"

namespace {

bool lower_hex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly-sized copy: ASan flags any read past the log.
  std::unique_ptr<char[]> copy(new char[size ? size : 1]);
  for (size_t i = 0; i < size; ++i) copy[i] = static_cast<char>(data[i]);
  const std::string_view log(copy.get(), size);

  profile::Capture c;
  std::string error;
  if (!profile::parse_dump(log, &c, &error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(error.empty());
  FUZZ_CHECK(c.build_id.size() % 2 == 0 && lower_hex(c.build_id));
  FUZZ_CHECK(c.hz >= 1 && c.period_ns >= 1 && c.cpus >= 1);
  FUZZ_CHECK(c.begin_line >= 1 && c.begin_line < c.end_line);
  FUZZ_CHECK(c.ignored_begin_line == 0 || c.ignored_begin_line > c.end_line);
  // Every line of the capture is a line of the log.
  size_t lines = 1;
  for (char ch : log) lines += ch == '\n';
  FUZZ_CHECK(c.end_line <= lines && c.ignored_begin_line <= lines);
  FUZZ_CHECK(c.samples.size() < c.end_line - c.begin_line);  // one line each
  for (const prof::Sample& s : c.samples) {
    FUZZ_CHECK(s.header.cpu < c.cpus);
    FUZZ_CHECK(s.n_pcs >= 1 && s.n_pcs <= prof::kMaxSamplePcs);
    // The mode, and kBranches exactly when there are branches.
    FUZZ_CHECK((s.header.flags & ~(prof::sample_flags::kModeMask | prof::sample_flags::kBranches)) == 0);
    FUZZ_CHECK((s.header.flags & prof::sample_flags::kModeMask) <= 2);
    FUZZ_CHECK(s.n_branches <= prof::kMaxSampleBranches);
    FUZZ_CHECK(((s.header.flags & prof::sample_flags::kBranches) != 0) == (s.n_branches != 0));
  }
  return 0;
}
