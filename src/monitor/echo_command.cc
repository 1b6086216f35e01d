// `echo [TEXT]`: prints TEXT, so a script or a pasted batch of commands can
// mark its progress in the output (a script reading the console waits for
// its own marker instead of guessing when a command's output ended).
#include "src/arch/console.h"
#include "src/monitor/command.h"

namespace monitor {
namespace {

MONITOR_COMMAND(echo, "[TEXT]", "print TEXT: a marker in a script's or a paste's output") {
  arch::kprint("{}\n", args);
  return true;
}

}  // namespace
}  // namespace monitor
