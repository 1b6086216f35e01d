// `help`: every registered command with its arguments and one line of
// help, in name order.
#include "src/arch/console.h"
#include "src/base/format.h"
#include "src/monitor/command.h"
#include "src/monitor/command_table.h"
#include "src/monitor/monitor.h"

namespace monitor {
namespace {

MONITOR_COMMAND(help, "", "this list") {
  arch::kprint("commands:\n");
  for_each_by_name(commands(), [](const Command& c) {
    char name_usage[40];
    base::format_to(name_usage, sizeof(name_usage), "{}{}{}", c.name, c.usage[0] != '\0' ? " " : "", c.usage);
    arch::kprint("  {:<14}{}\n", static_cast<const char*>(name_usage), c.help);
  });
  return true;
}

}  // namespace
}  // namespace monitor
