// Line discipline for the serial monitor: printable bytes are kept and
// echoed, backspace/DEL erase one byte (echoing "\b \b"), CR or LF ends the
// line (a CR LF pair ends it once). Logic only; output goes to a sink, so
// host tests drive it byte by byte. Thread context.
#pragma once

#include "src/base/format.h"
#include "src/base/str.h"

namespace monitor {

template <size_t kCapacity>
class LineEditor {
 public:
  explicit LineEditor(base::Sink echo) : echo_(echo) {}

  /// Feeds one received byte; returns true when a line is complete, which
  /// line() then holds until the next feed.
  bool feed(char c) {
    if (done_) {
      len_ = 0;
      done_ = false;
    }
    if (c == '\n' && last_was_cr_) {  // second half of CR LF
      last_was_cr_ = false;
      return false;
    }
    last_was_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      echo("\n", 1);
      done_ = true;
      return true;
    }
    if (c == '\b' || c == 0x7f) {
      if (len_ > 0) {
        --len_;
        echo("\b \b", 3);
      }
      return false;
    }
    if (c < 0x20 || c > 0x7e) return false;  // other control bytes: ignored
    if (len_ + 1 >= kCapacity) return false;  // full: drop, and the user sees no echo
    buf_[len_++] = c;
    echo(&c, 1);
    return false;
  }

  base::StrView line() const { return base::StrView(buf_, len_); }

 private:
  void echo(const char* s, size_t n) { echo_.write(echo_.ctx, s, n); }
  base::Sink echo_;
  char buf_[kCapacity];
  size_t len_ = 0;
  bool done_ = false;
  bool last_was_cr_ = false;
};

}  // namespace monitor
