// rt's boot step: the heap's maximum and the overrun policy from the
// command line. Kernel only; boot CPU, once the scheduler runs.
#pragma once

#include "src/base/str.h"
#include "src/base/types.h"

namespace rt {

/// Reads `rt.max_heap=BYTES` (K/M/G suffixes; default: all usable memory,
/// `usable_bytes`) and `rt.overrun=report|panic` (default report) from
/// `cmdline`, applies them and prints what it chose. A bad value keeps the
/// default (check_boot_options named it at boot). Until this runs, boot allocates on the heap's
/// boot budget.
void res_init(base::StrView cmdline, uint64_t usable_bytes);

}  // namespace rt
