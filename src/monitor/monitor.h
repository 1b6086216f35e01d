// The serial monitor: a `biscotti>` prompt running the commands modules
// register (command.h). `run_commands("a; b")` runs a script without a
// person (the kernel's `run=`, `test=` and `bench=` arguments). Thread
// context.
#pragma once

#include "src/base/span.h"
#include "src/base/str.h"
#include "src/monitor/command.h"

namespace monitor {

/// Every registered command, in link order.
base::Span<const Command> commands();

/// Runs one command line; false for an unknown or failed command.
bool execute(base::StrView line);

/// Runs `;`-separated commands in order, then powers off with a status that
/// says whether every command succeeded.
[[noreturn]] void run_commands(base::StrView script);

/// The interactive prompt; returns only through `poweroff`.
[[noreturn]] void monitor_loop();

}  // namespace monitor
