// The monitor's dispatch, scripts and prompt (see monitor.h).
#include "src/monitor/monitor.h"

#include "src/arch/console.h"
#include "src/arch/qemu_exit.h"
#include "src/base/assert.h"
#include "src/monitor/command_table.h"
#include "src/monitor/line_editor.h"

extern "C" const monitor::Command __monitor_commands_start[], __monitor_commands_end[];

namespace monitor {

base::Span<const Command> commands() {
  return base::Span<const Command>(__monitor_commands_start,
                                   static_cast<size_t>(__monitor_commands_end - __monitor_commands_start));
}

bool execute(base::StrView line) {
  base::StrView name, args;
  split_command(trim(line), &name, &args);
  if (name.empty()) return true;
  const Command* cmd = find_command(commands(), name);
  if (cmd == nullptr) {
    arch::kprint("unknown command '{}'; try 'help'\n", name);
    return false;
  }
  return cmd->run(args);
}

namespace {

// Two modules registering one name is a build mistake: say so before the
// first command, not by running the wrong one.
void check_commands() {
  const char* dup = duplicate_name(commands());
  ASSERT_MSG(dup == nullptr, "monitor: command '{}' is registered twice", dup);
}

}  // namespace

void run_commands(base::StrView script) {
  check_commands();
  bool ok = true;
  base::for_each_field(script, ';', [&](base::StrView field) {
    base::StrView cmd = trim(field);
    if (!cmd.empty()) {
      arch::kprint("biscotti> {}\n", cmd);
      ok = execute(cmd) && ok;
    }
    return true;
  });
  arch::kprint("run: {}\n", ok ? "all commands succeeded" : "a command failed");
  arch::qemu_exit(ok ? arch::ExitCode::kPass : arch::ExitCode::kFail);
}

void monitor_loop() {
  check_commands();
  LineEditor<128> editor(arch::console_sink());
  arch::kprint("biscotti> ");
  for (;;) {
    int c = arch::console_try_read();
    if (c < 0) {
      arch::console_wait_for_input();
      continue;
    }
    if (editor.feed(static_cast<char>(c))) {
      execute(editor.line());
      arch::kprint("biscotti> ");
    }
  }
}

}  // namespace monitor
