// Sizing a reservation from measurement: what `res sites` suggests for a
// site, from the peak its operations reached. Pure logic, host-tested.
#pragma once

#include "src/rt/objs.h"

namespace rt {

/// Per class: peak + peak/4, and at least peak + 1 where anything was used
/// (a margin for paths the workload did not take); 0 stays 0.
inline Objs suggest_reservation(const Objs& peak) {
  Objs s{};
  for (unsigned c = 0; c < kObjsClasses; ++c) {
    if (peak[c] == 0) continue;
    const uint64_t margin = peak[c] / 4 > 0 ? peak[c] / 4 : 1;
    const uint64_t v = uint64_t{peak[c]} + margin;
    s[c] = v > 0xffff'ffffu ? 0xffff'ffffu : static_cast<uint32_t>(v);
  }
  return s;
}

}  // namespace rt
