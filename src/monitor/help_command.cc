// `help`: every registered command with its arguments and one line of
// help, in name order.
#include "src/arch/console.h"
#include "src/base/format.h"
#include "src/base/str.h"
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
    // The help starts at a fixed column, or on a line of its own when the
    // name and arguments reach it: neither is ever cut.
    constexpr size_t kHelpColumn = 24;
    static constexpr char kSpaces[] = "                        ";
    static_assert(sizeof(kSpaces) - 1 == kHelpColumn);
    const base::StrView usage(c.usage);
    const size_t width = 2 + base::StrView(c.name).size() + (usage.empty() ? 0 : 1 + usage.size());
    const base::StrView pad = width < kHelpColumn ? base::StrView(kSpaces, kHelpColumn - width) : base::StrView("\n");
    const base::StrView indent = width < kHelpColumn ? base::StrView() : base::StrView(kSpaces, kHelpColumn);
    arch::kprint("  {}{}{}{}{}{}\n", c.name, usage.empty() ? "" : " ", usage, pad, indent, c.help);
  });
  return true;
}

}  // namespace
}  // namespace monitor
