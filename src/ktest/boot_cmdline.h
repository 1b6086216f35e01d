// The kernel command line as the in-kernel tests see it: a test that takes
// a parameter (e.g. `torture.seconds=600`) reads it from here, through the
// boot options table (monitor/boot_options.h) for its range. Kernel only.
#pragma once
#include "src/base/str.h"

namespace ktest {

/// Keeps `cmdline` (which must outlive every test: the boot's own copy).
/// Boot CPU, before the jobs.
void set_boot_cmdline(base::StrView cmdline);

/// The command line given to set_boot_cmdline (empty before). Thread context.
base::StrView boot_cmdline();

}  // namespace ktest
