// The kernel's side of the boot options table: warnings for a command line
// at boot, and the `options` command. Kernel only.
#pragma once

#include "src/base/str.h"

namespace monitor {

/// Keeps `cmdline` (static storage) for `options`, and prints a warning for
/// each unknown key (with the nearest known one) and each value its option
/// does not take (with what it accepts; the option then keeps its default).
/// Returns the number of warnings. Boot CPU, once.
size_t report_boot_options(base::StrView cmdline);

}  // namespace monitor
