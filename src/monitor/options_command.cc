// `options` and the boot-time warnings (see options_command.h).
#include "src/monitor/options_command.h"

#include "src/arch/console.h"
#include "src/monitor/boot_options.h"
#include "src/monitor/cmdline.h"
#include "src/monitor/command.h"

namespace monitor {
namespace {

constinit base::StrView boot_cmdline;

void print_accepted(const BootOption& o) {
  switch (o.kind) {
    case OptionKind::kText:
      arch::kprint("any text");
      break;
    case OptionKind::kFlag01:
      arch::kprint("0 or 1");
      break;
    case OptionKind::kUint:
      arch::kprint("a number from {} to {}", o.min, o.max);
      break;
    case OptionKind::kChoice:
      arch::kprint("one of {}", o.choices);
      break;
    case OptionKind::kBytes:
      arch::kprint("a byte count (K, M, G suffixes) from {} to {}", o.min, o.max);
      break;
  }
}

void warn(const OptionProblem& p, void*) {
  if (p.option == nullptr) {
    arch::kprint("warning: unknown option '{}'", p.key);
    if (p.suggestion != nullptr) arch::kprint(" (did you mean '{}'?)", p.suggestion->key);
    arch::kprint("; ignored\n");
    return;
  }
  arch::kprint("warning: option '{}={}': expected ", p.key, p.value);
  print_accepted(*p.option);
  arch::kprint("; using the default ({})\n", p.option->default_value);
}

MONITOR_COMMAND(options, "", "every boot option: its value on this boot, what it takes, what it does") {
  Cmdline cmdline(boot_cmdline);
  for (const BootOption& o : boot_options()) {
    bool found = false;
    const bool ok = boot_option_value_ok(o, cmdline.get(base::StrView(o.key), &found)) && found;
    const base::StrView value = boot_option_value(o, boot_cmdline);  // the default unless `ok`
    arch::kprint("{:<14} {:<22} ", o.key, value);
    arch::kprint("{} - {}; takes ", found ? (ok ? "set" : "bad value, default") : "default", o.help);
    print_accepted(o);
    arch::kprint("\n");
  }
  return true;
}

}  // namespace

size_t report_boot_options(base::StrView cmdline) {
  boot_cmdline = cmdline;
  return check_boot_options(cmdline, warn, nullptr);
}

}  // namespace monitor
