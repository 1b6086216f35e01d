// The parser of `prof dump`'s serial text (docs/profile_dump_format.md, v1):
// finds the last complete begin/end pair in a serial log, ignores the other
// kernel output interleaved with it, and checks every sample line and the
// sample count. Host only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/prof/sample_ring.h"

namespace profile {

/// One capture: the begin line's fields, the samples and the end line's
/// drop count.
struct Capture {
  std::string build_id;  // lowercase hex; empty for `build-id=none`
  uint64_t hz = 0;
  uint64_t period_ns = 0;
  uint32_t cpus = 0;
  uint64_t dropped = 0;
  /// The kernel's own sample record (flags hold the mode, and kBranches
  /// when the LBR part gave branches), so the
  /// kernel's to_pprof_sample() converts them.
  std::vector<prof::Sample> samples;
  size_t begin_line = 0;  // 1-based line numbers in the log, for messages
  size_t end_line = 0;
  /// A begin line after end_line that has no end (a dump cut short after
  /// a complete one), or 0: the caller may warn that it was not used.
  size_t ignored_begin_line = 0;
};

/// Parses the last complete capture in `log`. On failure returns false with
/// a message in `*error` that names the line (1-based) at fault.
bool parse_dump(std::string_view log, Capture* out, std::string* error);

}  // namespace profile
