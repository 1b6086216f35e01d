// The serial monitor: a `biscotti>` prompt running the commands modules
// register (command.h), and the kernel command line's jobs (`test=`,
// `bench=`, `run=`), run without a person. Thread context.
#pragma once

#include "src/base/span.h"
#include "src/base/str.h"
#include "src/monitor/command.h"

namespace monitor {

/// Every registered command, in link order.
base::Span<const Command> commands();

/// Runs one command line; false for an unknown or failed command. A
/// failure is remembered for the run's exit status (power_off).
bool execute(base::StrView line);

/// Runs command `name` with `args` (of any length: no line buffer), echoed
/// as a prompt line; false for an unknown or failed command (remembered).
bool run_command(base::StrView name, base::StrView args);

/// Runs `;`-separated commands in order and prints whether all succeeded;
/// returns that.
bool run_script(base::StrView script);

/// Whether any command of this run failed (or was unknown).
bool any_command_failed();

/// Ends the run: QEMU exits with the fail status if any command failed,
/// however many succeeded after it, and with the pass status otherwise.
[[noreturn]] void power_off();

/// The kernel command line's jobs, in this order: `test=GLOBS` and
/// `bench=GLOBS` (the commands of that name), then a `run=` script. Each
/// runs and reports even when an earlier one failed; then the run ends
/// with the worst status. With none of them, the interactive prompt.
[[noreturn]] void run_jobs(base::StrView cmdline);

/// The prompt's line editor (line_editor.h): the longest line, and how many
/// lines Up/Down recall.
inline constexpr size_t kLineCapacity = 1024;  ///< lines of up to 1023 bytes
inline constexpr size_t kHistoryLines = 32;

/// The interactive prompt (a line may hold `;`-separated commands, run in
/// order as in `run=`); returns only through `poweroff`.
[[noreturn]] void monitor_loop();

}  // namespace monitor
