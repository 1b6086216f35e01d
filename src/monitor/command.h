// Monitor commands, registered by the module that owns their data:
// `MONITOR_COMMAND(mem, "", "what memory there is") { ... return true; }`
// puts the command in the .monitor_commands section (no constructors, no
// central table); the body gets the words after the name as `args` and
// returns false when the command failed. Depends only on src/base, so any
// module can register one; the library holding it must be alwayslink.
#pragma once

#include "src/base/str.h"

namespace monitor {

struct Command {
  const char* name;
  const char* usage;  ///< the arguments, as `help` shows them ("[GLOB]"; "" for none: the
                      ///< monitor then refuses any, so the body need not check)
  const char* help;   ///< one line
  bool (*run)(base::StrView args);
  const char* file;   ///< where it is registered (`help NAME` says)
};

}  // namespace monitor

#define MONITOR_COMMAND(name, usage, help)                                                   \
  static bool monitor_command_fn_##name(::base::StrView args);                               \
  [[gnu::used, gnu::section(".monitor_commands")]] static constexpr ::monitor::Command       \
      monitor_command_##name{#name, usage, help, &monitor_command_fn_##name, __FILE__};       \
  static bool monitor_command_fn_##name([[maybe_unused]] ::base::StrView args)
