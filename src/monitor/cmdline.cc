// Command-line word splitting (see cmdline.h).
#include "src/monitor/cmdline.h"

namespace monitor {

base::StrView Cmdline::get(base::StrView key, bool* found) const {
  base::StrView result;
  bool seen = false;
  size_t i = 0;
  const size_t n = text_.size();
  while (i < n) {
    while (i < n && text_[i] == ' ') ++i;
    if (i == n) break;
    size_t key_start = i;
    while (i < n && text_[i] != ' ' && text_[i] != '=') ++i;
    base::StrView k = text_.substr(key_start, i - key_start);
    base::StrView v;
    if (i < n && text_[i] == '=') {
      ++i;
      if (i < n && text_[i] == '"') {
        size_t close = text_.find('"', i + 1);
        if (close == base::StrView::npos) close = n;  // unterminated: to the end
        v = text_.substr(i + 1, close - i - 1);
        i = close + 1;
      } else {
        size_t start = i;
        while (i < n && text_[i] != ' ') ++i;
        v = text_.substr(start, i - start);
      }
    }
    if (k == key) {
      seen = true;
      result = v;
    }
  }
  if (found) *found = seen;
  return result;
}

}  // namespace monitor
