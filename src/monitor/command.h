// Monitor commands, registered by the module that owns their data:
// `MONITOR_COMMAND(mem, "", "what memory there is") { ... return true; }`
// puts the command in the .monitor_commands section (no constructors, no
// central table); the body gets the words after the name as `args` and
// returns false when the command failed. MONITOR_COMMAND_COMPLETING also
// names a function Tab asks for the command's arguments. Depends only on src/base, so any
// module can register one; the library holding it must be alwayslink.
#pragma once

#include "src/base/str.h"
#include "src/monitor/completions.h"

namespace monitor {

struct Command {
  const char* name;
  const char* usage;  ///< the arguments, as `help` shows them ("[GLOB]"; "" for none: the
                      ///< monitor then refuses any, so the body need not check)
  const char* help;   ///< one line
  bool (*run)(base::StrView args);
  const char* file;  ///< where it is registered (`help NAME` says)
  /// Tab in the arguments: adds what may go there (null: nothing offered).
  void (*complete)(base::StrView word, Completions* out) = nullptr;
};

/// Whether Ctrl-C was typed while this command runs: the monitor reads the
/// input ahead for it, takes the Ctrl-C out and keeps every other byte for
/// the prompt. A long command (`test`, `bench`) checks between its steps and
/// stops cleanly, failing. Defined by the monitor (always in the kernel).
/// Thread context, on the thread running monitor commands.
bool interrupt_requested();

/// Whether a key was typed while this command runs (any byte, Ctrl-C
/// included), taking it: how a live view (`top`) is ended. Defined by the
/// monitor, like interrupt_requested. Thread context, on the thread running
/// monitor commands.
bool key_pressed();

}  // namespace monitor

// As MONITOR_COMMAND, with `completer(word, out)` offering arguments to Tab.
#define MONITOR_COMMAND_COMPLETING(name, usage, help, completer)                                               \
  static bool monitor_command_fn_##name(::base::StrView args);                                                 \
  [[gnu::used, gnu::section(".monitor_commands")]] static constexpr ::monitor::Command monitor_command_##name{ \
      #name, usage, help, &monitor_command_fn_##name, __FILE__, completer};                                    \
  static bool monitor_command_fn_##name([[maybe_unused]] ::base::StrView args)

#define MONITOR_COMMAND(name, usage, help)                                                                     \
  static bool monitor_command_fn_##name(::base::StrView args);                                                 \
  [[gnu::used, gnu::section(".monitor_commands")]] static constexpr ::monitor::Command monitor_command_##name{ \
      #name, usage, help, &monitor_command_fn_##name, __FILE__};                                               \
  static bool monitor_command_fn_##name([[maybe_unused]] ::base::StrView args)
