// Command-line word splitting (see cmdline.h).
#include "src/monitor/cmdline.h"

namespace monitor {

base::StrView Cmdline::get(base::StrView key, bool* found) const {
  base::StrView result;
  bool seen = false;
  for_each([&](base::StrView k, base::StrView v, bool) {
    if (k == key) {
      seen = true;
      result = v;
    }
  });
  if (found) *found = seen;
  return result;
}

}  // namespace monitor
