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

 private:
  base::StrView text_;
};

}  // namespace monitor
