// The kernel command line: space-separated `key=value` or bare `key` words;
// a value may be double-quoted to hold spaces (run="cpus; poweroff"). When a
// key repeats, the last one wins, so arguments appended later (by QEMU's
// fw_cfg, see arch/fw_cfg.h) override the boot loader's. Any context.
#pragma once

#include "src/base/str.h"

namespace monitor {

class Cmdline {
 public:
  explicit Cmdline(base::StrView text) : text_(text) {}

  /// The value of the last `key=...`; empty for a bare `key`; `found` says
  /// whether the key appeared at all.
  base::StrView get(base::StrView key, bool* found = nullptr) const;
  bool has(base::StrView key) const {
    bool found;
    get(key, &found);
    return found;
  }
  base::StrView text() const { return text_; }

  /// Calls fn(key, value, has_value) for every word in order (repeats
  /// included): the splitting get() uses.
  template <typename Fn>
  void for_each(Fn fn) const {
    size_t i = 0;
    const size_t n = text_.size();
    while (i < n) {
      while (i < n && text_[i] == ' ') ++i;
      if (i == n) break;
      size_t key_start = i;
      while (i < n && text_[i] != ' ' && text_[i] != '=') ++i;
      base::StrView k = text_.substr(key_start, i - key_start);
      base::StrView v;
      bool has_value = false;
      if (i < n && text_[i] == '=') {
        has_value = true;
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
      fn(k, v, has_value);
    }
  }

 private:
  base::StrView text_;
};

}  // namespace monitor
