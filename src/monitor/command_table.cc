// Command lookup and listing (see command_table.h).
#include "src/monitor/command_table.h"

namespace monitor {

base::StrView trim(base::StrView s) {
  size_t b = 0, e = s.size();
  while (b < e && s[b] == ' ') ++b;
  while (e > b && s[e - 1] == ' ') --e;
  return s.substr(b, e - b);
}

void split_command(base::StrView line, base::StrView* name, base::StrView* args) {
  size_t sp = line.find(' ');
  *name = line.substr(0, sp);
  *args = sp == base::StrView::npos ? base::StrView() : trim(line.substr(sp + 1));
}

const Command* find_command(base::Span<const Command> commands, base::StrView name) {
  for (const Command& c : commands)
    if (base::StrView(c.name) == name) return &c;
  return nullptr;
}

const char* duplicate_name(base::Span<const Command> commands) {
  for (size_t i = 0; i < commands.size(); ++i)
    for (size_t j = i + 1; j < commands.size(); ++j)
      if (base::StrView(commands[i].name) == base::StrView(commands[j].name)) return commands[i].name;
  return nullptr;
}

bool name_less(base::StrView a, base::StrView b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  return a.size() < b.size();
}

}  // namespace monitor
