// The serial monitor: a `biscotti>` prompt with commands (help, version,
// mem, test GLOB, poweroff). `run_commands("a; b")` runs a script without a
// person (the kernel's `run=` argument). Thread context.
#pragma once

#include "src/base/str.h"
#include "src/kernel/boot_state.h"

namespace kernel {

/// Runs one command line; returns false for an unknown command.
bool monitor_execute(base::StrView line, const BootState& boot);

/// Runs `;`-separated commands in order, then powers off with a status that
/// says whether every command succeeded.
[[noreturn]] void run_commands(base::StrView script, const BootState& boot);

/// The interactive prompt; returns only through `poweroff`.
[[noreturn]] void monitor_loop(const BootState& boot);

}  // namespace kernel
