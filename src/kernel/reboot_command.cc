// `reboot`: resets the machine (arch/reset.h) with the reset register
// platform discovery found in the FADT.
#include "src/arch/reset.h"
#include "src/kernel/platform.h"
#include "src/monitor/command.h"

namespace kernel {
namespace {

MONITOR_COMMAND(reboot, "", "reset the machine: ACPI reset register, keyboard controller, triple fault") {
  const char* why = nullptr;
  const arch::acpi::ResetRegister* reg = reset_register(&why);
  arch::reset_machine(reg, why);
}

}  // namespace
}  // namespace kernel
