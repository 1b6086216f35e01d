// `poweroff`: ends the run; QEMU exits with the pass status.
#include "src/arch/console.h"
#include "src/arch/qemu_exit.h"
#include "src/monitor/command.h"

namespace monitor {
namespace {

MONITOR_COMMAND(poweroff, "", "end the run (QEMU exits)") {
  arch::kprint("powering off\n");
  arch::qemu_exit(arch::ExitCode::kPass);
}

}  // namespace
}  // namespace monitor
