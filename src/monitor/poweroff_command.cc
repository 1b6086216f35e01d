// `poweroff`: ends the run; QEMU exits with the fail status if any command
// of the run failed (a script's `frobnicate; poweroff` fails), else pass.
#include "src/arch/console.h"
#include "src/monitor/command.h"
#include "src/monitor/monitor.h"

namespace monitor {
namespace {

MONITOR_COMMAND(poweroff, "", "end the run (QEMU exits; failed if any command failed)") {
  arch::kprint("powering off{}\n", any_command_failed() ? " (a command failed: the run fails)" : "");
  power_off();
}

}  // namespace
}  // namespace monitor
