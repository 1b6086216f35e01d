// How tightly a test may bound time. Under QEMU's -icount a guest
// nanosecond is a guest instruction, so a timer's rate or a sleep's length
// can be checked exactly however busy the host is; on host time a vCPU may
// lose the host CPU for milliseconds at any point, so the same test can
// only check progress, with generous bounds. The boot tests that pass
// --icount say so with `ktest.timing=exact` (test/boot_test.sh, as does
// tools/qemu.sh); without it a test assumes host time. Kernel only.
#pragma once

#include "src/base/str.h"

namespace ktest {

/// Reads `ktest.timing` from the command line. Boot CPU, before the jobs.
void timing_init(base::StrView cmdline);

/// Whether guest time is exact (`ktest.timing=exact`): tests then hold
/// their exact bounds.
bool exact_timing();

}  // namespace ktest
