// An SVG flame graph of folded stacks ([flamegraph]): the root ("all") at
// the bottom, each frame a rectangle as wide as its share of the samples,
// siblings in name order, a <title> tooltip with the count and percentage,
// labels cut to fit. The same stacks always give the same bytes. Host only.
#pragma once

#include <string>

#include "tools/profile/stacks.h"

namespace profile {

struct FlameOptions {
  std::string title = "Flame graph";
  double width = 1200;       // pixels, the whole image
  double frame_height = 16;  // pixels per stack level
  /// Frames narrower than this many pixels (and their callees) are left
  /// out: they cannot be seen, and would bloat the file.
  double min_width = 0.1;
};

/// The SVG document for `folded`.
std::string flame_svg(const Folded& folded, const FlameOptions& options = {});

}  // namespace profile
