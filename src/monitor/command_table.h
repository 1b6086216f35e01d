// The registered commands as a table: splitting a typed line into command
// name and arguments, finding a command by name, and listing them in name
// order (the section holds them in link order). Pure logic, host-tested.
// Any context.
#pragma once

#include "src/base/span.h"
#include "src/base/str.h"
#include "src/monitor/command.h"

namespace monitor {

/// `line` without leading and trailing spaces.
base::StrView trim(base::StrView line);

/// Splits a trimmed line at its first space into the command name and the
/// (trimmed) rest.
void split_command(base::StrView line, base::StrView* name, base::StrView* args);

/// The command called `name`, or null.
const Command* find_command(base::Span<const Command> commands, base::StrView name);

/// The first name registered twice, or null: a duplicate would shadow.
const char* duplicate_name(base::Span<const Command> commands);

/// Byte-wise order of names, for listing.
bool name_less(base::StrView a, base::StrView b);

/// Calls f(const Command&) for every command in name order, without
/// allocating (the table is a few dozen entries: n^2 is nothing).
template <typename F>
void for_each_by_name(base::Span<const Command> commands, F f) {
  const Command* last = nullptr;
  for (size_t done = 0; done < commands.size(); ++done) {
    const Command* next = nullptr;
    for (const Command& c : commands) {
      if (last != nullptr && !name_less(last->name, c.name)) continue;
      if (next == nullptr || name_less(c.name, next->name)) next = &c;
    }
    if (next == nullptr) return;  // only duplicates were left
    f(*next);
    last = next;
  }
}

}  // namespace monitor
