// prof's boot step: every CPU's prof block, the NMI handler that serves
// the sampler, `bt`, the watchdog and stopping the world, and the periodic
// NMI at the watchdog's rate. Kernel only.
#pragma once

#include "src/base/str.h"

namespace prof {

/// After every CPU came online (the periodic NMI reaches only CPUs online
/// then or later). Reads `watchdog=SECONDS` from the command line. Boot
/// CPU, thread context, once.
void prof_init(base::StrView cmdline);

}  // namespace prof
