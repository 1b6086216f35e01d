// The monitor's dispatch, scripts and prompt (see monitor.h).
#include "src/monitor/monitor.h"

#include "src/arch/console.h"
#include "src/arch/qemu_exit.h"
#include "src/base/assert.h"
#include "src/monitor/boot_options.h"
#include "src/monitor/command_table.h"
#include "src/monitor/console_input.h"
#include "src/monitor/input_loss.h"
#include "src/monitor/line_editor.h"
#include "src/monitor/read_ahead.h"

extern "C" const monitor::Command __monitor_commands_start[], __monitor_commands_end[];

namespace monitor {

base::Span<const Command> commands() {
  return base::Span<const Command>(__monitor_commands_start,
                                   static_cast<size_t>(__monitor_commands_end - __monitor_commands_start));
}

namespace {

constinit bool failed = false;  // any command of this run (one thread runs them)

bool record(bool ok) {
  if (!ok) failed = true;
  return ok;
}

bool dispatch(base::StrView name, base::StrView args) {
  if (name.empty()) return true;
  const Command* cmd = find_command(commands(), name);
  if (cmd == nullptr) {
    arch::kprint("unknown command '{}'; try 'help'\n", name);
    return false;
  }
  if (cmd->usage[0] == '\0' && !args.empty()) {
    arch::kprint("{} takes no arguments (got '{}'); see 'help {}'\n", name, args, name);
    return false;
  }
  return cmd->run(args);
}

}  // namespace

bool execute(base::StrView line) {
  base::StrView name, args;
  split_command(trim(line), &name, &args);
  return record(dispatch(name, args));
}

bool run_command(base::StrView name, base::StrView args) {
  arch::kprint("biscotti> {} {}\n", name, args);
  return record(dispatch(name, trim(args)));
}

bool any_command_failed() { return failed; }

void power_off() { arch::qemu_exit(failed ? arch::ExitCode::kFail : arch::ExitCode::kPass); }

namespace {

// Two modules registering one name is a build mistake: say so before the
// first command, not by running the wrong one.
void check_commands() {
  const char* dup = duplicate_name(commands());
  ASSERT_MSG(dup == nullptr, "monitor: command '{}' is registered twice", dup);
}

// Runs the `;`-separated commands of `text` in order, each echoed as a
// prompt line when `echo`; true when all succeeded. One splitting for
// `run=` and the prompt, so both read a line the same way.
bool run_commands(base::StrView text, bool echo) {
  bool ok = true;
  base::for_each_field(text, ';', [&](base::StrView field) {
    base::StrView cmd = trim(field);
    if (!cmd.empty()) {
      if (echo) arch::kprint("biscotti> {}\n", cmd);
      ok = execute(cmd) && ok;
    }
    return true;
  });
  return ok;
}

}  // namespace

bool run_script(base::StrView script) {
  check_commands();
  const bool ok = run_commands(script, /*echo=*/true);
  arch::kprint("run: {}\n", ok ? "all commands succeeded" : "a command failed");
  return ok;
}

void run_jobs(base::StrView cmdline) {
  check_commands();
  bool any = false;
  // prof.start=HZ profiles the jobs: `prof start HZ` before them, and
  // `prof stop` and `prof dump` after (the host tool reads the dump). A
  // rate out of range was named at boot; then nothing is profiled.
  const base::Result<uint64_t> prof_hz = boot_option_uint(cmdline, "prof.start");
  const bool profile = prof_hz.ok();
  if (profile) {
    char args[32];
    const size_t n = base::format_to(args, sizeof args, "start {}", prof_hz.value());
    (void)run_command(base::StrView("prof"), base::StrView(args, n < sizeof args ? n : sizeof args - 1));
  }
  if (base::Result<base::StrView> globs = boot_option_text(cmdline, "test"); globs.ok()) {
    any = true;
    (void)run_command(base::StrView("test"), globs.value());
  }
  if (base::Result<base::StrView> globs = boot_option_text(cmdline, "bench"); globs.ok()) {
    any = true;
    (void)run_command(base::StrView("bench"), globs.value());
  }
  if (base::Result<base::StrView> script = boot_option_text(cmdline, "run"); script.ok()) {
    any = true;
    (void)run_script(script.value());
  }
  if (profile) {
    (void)run_command(base::StrView("prof"), base::StrView("stop"));
    (void)run_command(base::StrView("prof"), base::StrView("dump"));
    any = true;
  }
  if (!any) monitor_loop();
  power_off();
}

namespace {

// The editor's echo: unwrapped (the editor counts columns itself, and
// console.wrap= would break a line it redraws) and held like kprint, so no
// other CPU's line lands inside an echo.
void echo(void*, const char* bytes, size_t n) {
  arch::console_lock();
  const base::Sink raw = arch::console_sink_unwrapped();
  raw.write(raw.ctx, bytes, n);
  arch::console_unlock();
}

// Tab at the prompt: command names where a command's name goes, else what
// the command offers for its arguments.
void complete_command(void*, base::StrView command, base::StrView word, Completions* out) {
  if (command.empty()) {
    for (const Command& c : commands()) out->add(c.name);
    return;
  }
  const Command* c = find_command(commands(), command);
  if (c != nullptr && c->complete != nullptr) c->complete(word, out);
}

// Input read ahead of the editor while a command runs, so Ctrl-C can be
// found behind type-ahead. Bounded like the console's own ring: when this
// is full, bytes wait there.
constinit ReadAhead<1024> read_ahead;

int console_byte(void*) { return arch::console_try_read(); }

int next_input_byte() {
  const int c = read_ahead.pop();
  return c >= 0 ? c : arch::console_try_read();
}

}  // namespace

bool interrupt_requested() {
  read_ahead.fill(&console_byte, nullptr);
  if (!read_ahead.take(0x03)) return false;
  arch::kprint("^C\n");
  return true;
}

bool key_pressed() {
  read_ahead.fill(&console_byte, nullptr);
  return read_ahead.pop() >= 0;
}

namespace {

// Before each prompt: whether the UART lost input since the last one.
void prompt(LineEditor<kLineCapacity, kHistoryLines>& editor) {
  static InputLossReport loss;
  arch::console_lock();
  (void)loss.report(arch::console_rx_overruns(), arch::console_sink());
  arch::console_unlock();
  editor.prompt();
}

}  // namespace

void monitor_loop() {
  check_commands();
  // Static, not on the thread's stack: the line and its history take
  // kLineCapacity * (kHistoryLines + 2) bytes (no heap use at the prompt).
  static LineEditor<kLineCapacity, kHistoryLines> editor(base::Sink{&echo, nullptr}, "biscotti> ",
                                                         Completer{&complete_command, nullptr});
  prompt(editor);
  for (;;) {
    int c = next_input_byte();
    if (c < 0) {
      wait_for_console_input();
      continue;
    }
    if (editor.feed(static_cast<char>(c))) {
      (void)run_commands(editor.line(), /*echo=*/false);
      prompt(editor);
    }
  }
}

}  // namespace monitor
