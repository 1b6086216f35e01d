// `help`: every registered command with its arguments and one line of
// help, in name order.
#include "src/arch/console.h"
#include "src/base/format.h"
#include "src/monitor/command.h"
#include "src/monitor/command_table.h"
#include "src/monitor/monitor.h"

namespace monitor {
namespace {

MONITOR_COMMAND(help, "[COMMAND]", "this list, or one command's arguments and where it is registered") {
  if (!args.empty()) {
    const Command* c = find_command(commands(), args);
    if (c == nullptr) {
      arch::kprint("help: no command '{}'; 'help' lists them\n", args);
      return false;
    }
    arch::kprint("{} {}\n  {}\n  takes {}; registered in {}\n", c->name, c->usage, c->help,
                 c->usage[0] != '\0' ? "the arguments shown" : "no arguments", c->file);
    return true;
  }
  arch::kprint("commands:\n");
  for_each_by_name(commands(), [](const Command& c) {
    char name_usage[40];
    base::format_to(name_usage, sizeof(name_usage), "{}{}{}", c.name, c.usage[0] != '\0' ? " " : "", c.usage);
    arch::kprint("  {:<22}{}\n", static_cast<const char*>(name_usage), c.help);
  });
  return true;
}

}  // namespace
}  // namespace monitor
