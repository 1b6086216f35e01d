// Whether a test's declared memory need fits a boot: the reason a test
// skips on a machine too small for it, naming both figures. Pure, so the
// rounding is host-tested; require.h applies it to the running boot.
#pragma once

#include "src/base/format.h"
#include "src/base/types.h"

namespace ktest {

/// When `have` bytes of usable memory are fewer than the `need`ed, writes
/// why into `why` (NUL-terminated, `cap` > 0) and returns true. The need is
/// rounded up and the boot's figure down to whole MiB, so the two printed
/// figures never look equal.
inline bool memory_shortfall(uint64_t have, uint64_t need, char* why, size_t cap) {
  if (have >= need) return false;
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  base::format_to(why, cap, "needs {} MiB of usable memory (this boot has {} MiB)", (need + kMiB - 1) / kMiB,
                  have / kMiB);
  return true;
}

}  // namespace ktest
