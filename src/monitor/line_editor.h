// Line editor for the serial monitor, in the terms a serial terminal
// understands (xterm, tmux, screen): the bytes it echoes move the cursor with
// backspace and by re-sending the characters to its right, so no terminal
// type is needed. Pure logic: output goes to a sink and completions come
// from a callback, so host tests drive it byte by byte and check the exact
// bytes echoed. Thread context; one thread feeds it.
//
// Keys: printable ASCII inserts at the cursor; Backspace/DEL and Ctrl-H
// erase left; Delete and Ctrl-D erase under the cursor; Left/Right, Ctrl-B/F
// move; Home/End, Ctrl-A/E jump; Ctrl-U kills to the start, Ctrl-K to the
// end, Ctrl-W the word before the cursor; Up/Down and Ctrl-P/N walk the
// history; Tab completes; Ctrl-C cancels the line ("^C", a new prompt); CR
// or LF ends it (a CR LF pair once). Escape sequences (CSI `ESC [ ... final`
// and SS3 `ESC O x`) are parsed whole and never inserted; unknown ones, Alt-x
// (`ESC x`), other control bytes and non-ASCII bytes are ignored.
//
// A line holds at most kCapacity - 1 bytes. Bytes past that are dropped and
// the line is marked too long: Enter then prints a message and discards it,
// so a cut line never runs as if it were whole. The display assumes the
// prompt and line fit the terminal's width (backspace does not climb back
// over a wrapped row).
//
// History: the last kHistory non-empty lines (a repeat of the newest is not
// stored again), held in the editor itself: no allocation, so the owner
// chooses where its kHistory * kCapacity bytes live.
#pragma once

#include "src/base/format.h"
#include "src/base/str.h"
#include "src/monitor/completions.h"

namespace monitor {

/// Asked for the names that may complete `word`. `command` is the first word
/// of the command the cursor is in, or empty when `word` is itself the
/// command's name.
struct Completer {
  void (*fn)(void* ctx, base::StrView command, base::StrView word, Completions* out);
  void* ctx;
};

template <size_t kCapacity, size_t kHistory>
class LineEditor {
  static_assert(kCapacity >= 2 && kHistory >= 1);

 public:
  /// Longest line accepted, in bytes.
  static constexpr size_t kMaxLine = kCapacity - 1;

  LineEditor(base::Sink echo, base::StrView prompt, Completer completer = {nullptr, nullptr})
      : echo_(echo), prompt_(prompt), completer_(completer) {}

  /// Prints the prompt for a new line.
  void prompt() { out(prompt_); }

  /// Feeds one received byte; returns true when a line is complete, which
  /// line() then holds until the next feed. The caller prints the next
  /// prompt after it has run the line; after a cancelled or discarded line
  /// the editor prints it.
  bool feed(char c) {
    if (done_) {
      len_ = cursor_ = 0;
      done_ = false;
    }
    const bool after_cr = last_was_cr_;
    last_was_cr_ = c == '\r';
    if (esc_ != Esc::kNone && escape(c)) return false;
    switch (c) {
      case '\n':
        if (after_cr) return false;  // second half of CR LF
        [[fallthrough]];
      case '\r':
        return finish();
      case 0x1b:
        esc_ = Esc::kStart;
        return false;
      case 0x01:
        move_to(0);
        return false;  // Ctrl-A
      case 0x02:
        if (cursor_ > 0) move_to(cursor_ - 1);
        return false;  // Ctrl-B
      case 0x03:
        cancel();
        return false;  // Ctrl-C
      case 0x04:
        erase(cursor_, cursor_ + 1);
        return false;  // Ctrl-D
      case 0x05:
        move_to(len_);
        return false;  // Ctrl-E
      case 0x06:
        if (cursor_ < len_) move_to(cursor_ + 1);
        return false;  // Ctrl-F
      case '\b':
      case 0x7f:
        if (cursor_ > 0) erase(cursor_ - 1, cursor_);
        return false;
      case '\t':
        complete();
        return false;
      case 0x0b:
        erase(cursor_, len_);
        return false;  // Ctrl-K
      case 0x0e:
        history_step(-1);
        return false;  // Ctrl-N
      case 0x10:
        history_step(+1);
        return false;  // Ctrl-P
      case 0x15:
        erase(0, cursor_);
        return false;  // Ctrl-U
      case 0x17:
        erase(word_start(cursor_), cursor_);
        return false;  // Ctrl-W
      default:
        break;
    }
    if (c < 0x20 || c > 0x7e) return false;  // other control and non-ASCII bytes
    insert(base::StrView(&c, 1));
    return false;
  }

  base::StrView line() const { return base::StrView(buf_, len_); }
  size_t cursor() const { return cursor_; }
  size_t history_size() const { return hist_count_; }

 private:
  enum class Esc { kNone, kStart, kCsi, kSs3 };

  // ---- escape sequences (ECMA-48 section 5.4: CSI is ESC [, then
  // parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, a final 0x40-0x7E;
  // SS3 is ESC O and one byte). xterm sends both forms for the cursor keys.
  // Returns false for a control byte that breaks a sequence off: the caller
  // then handles it as a key (ESC then Enter still ends the line).
  bool escape(char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      esc_ = Esc::kNone;
      return false;
    }
    switch (esc_) {
      case Esc::kStart:
        if (c == '[') {
          esc_ = Esc::kCsi;
          param_ = 0;
          params_ = 0;
        } else if (c == 'O') {
          esc_ = Esc::kSs3;
        } else {
          esc_ = Esc::kNone;  // ESC x: Alt-x, not bound; x is swallowed
        }
        return true;
      case Esc::kSs3:
        esc_ = Esc::kNone;
        key(c, 0);
        return true;
      case Esc::kCsi:
        if (u >= '0' && u <= '9') {
          if (params_ == 0) param_ = param_ < 1000 ? param_ * 10 + (u - '0') : param_;
        } else if (c == ';') {
          ++params_;  // modifiers (ESC [ 1 ; 5 C) follow: the key stays the same
        } else if (u >= 0x40 && u <= 0x7e) {
          esc_ = Esc::kNone;
          key(c, param_);
        } else if (u > 0x7f) {
          esc_ = Esc::kNone;  // not a CSI byte: the sequence was broken off
        }
        return true;
      case Esc::kNone:
        return false;
    }
    return false;
  }

  void key(char final_byte, unsigned param) {
    switch (final_byte) {
      case 'A':
        history_step(+1);
        return;
      case 'B':
        history_step(-1);
        return;
      case 'C':
        if (cursor_ < len_) move_to(cursor_ + 1);
        return;
      case 'D':
        if (cursor_ > 0) move_to(cursor_ - 1);
        return;
      case 'H':
        move_to(0);
        return;
      case 'F':
        move_to(len_);
        return;
      case '~':  // VT220 editing keys: 1/7 Home, 4/8 End, 3 Delete
        if (param == 1 || param == 7) move_to(0);
        if (param == 4 || param == 8) move_to(len_);
        if (param == 3) erase(cursor_, cursor_ + 1);
        return;
      default:
        return;
    }
  }

  // ---- display. Invariant: the terminal's cursor sits after the prompt
  // plus cursor_ bytes of the line.
  void out(base::StrView s) {
    if (!s.empty()) echo_.write(echo_.ctx, s.data(), s.size());
  }
  void repeat(char c, size_t n) {
    for (size_t i = 0; i < n; ++i) echo_.write(echo_.ctx, &c, 1);
  }

  void move_to(size_t pos) {
    if (pos < cursor_) repeat('\b', cursor_ - pos);
    if (pos > cursor_) out(base::StrView(buf_ + cursor_, pos - cursor_));
    cursor_ = pos;
  }

  // The terminal's cursor is at `from` (<= cursor_); the line on screen was
  // `old_len` long. Re-sends the line from `from`, blanks what is left of
  // the old one and backs up to cursor_.
  void redraw_from(size_t from, size_t old_len) {
    out(base::StrView(buf_ + from, len_ - from));
    const size_t pad = old_len > len_ ? old_len - len_ : 0;
    repeat(' ', pad);
    repeat('\b', len_ - cursor_ + pad);
  }

  // ---- editing
  void insert(base::StrView s) {
    size_t n = s.size();
    if (len_ + n > kMaxLine) {
      too_long_ = true;
      n = kMaxLine - len_;
    }
    if (n == 0) return;
    for (size_t i = len_; i > cursor_; --i) buf_[i - 1 + n] = buf_[i - 1];
    for (size_t i = 0; i < n; ++i) buf_[cursor_ + i] = s[i];
    const size_t from = cursor_;
    len_ += n;
    cursor_ += n;
    redraw_from(from, len_ - n);
  }

  // Removes bytes [b, e) of the line (clamped); the cursor ends at b.
  void erase(size_t b, size_t e) {
    if (e > len_) e = len_;
    if (b >= e) return;
    move_to(b);
    const size_t old_len = len_;
    for (size_t i = e; i < len_; ++i) buf_[b + i - e] = buf_[i];
    len_ -= e - b;
    redraw_from(b, old_len);
  }

  // Replaces the whole line, cursor at its end.
  void replace(base::StrView s) {
    move_to(0);
    const size_t old_len = len_;
    len_ = s.size() < kMaxLine ? s.size() : kMaxLine;
    for (size_t i = 0; i < len_; ++i) buf_[i] = s[i];
    cursor_ = len_;
    redraw_from(0, old_len);
  }

  static bool is_space(char c) { return c == ' '; }

  // Start of the word ending at pos, after the spaces before pos (Ctrl-W).
  size_t word_start(size_t pos) const {
    while (pos > 0 && is_space(buf_[pos - 1])) --pos;
    while (pos > 0 && !is_space(buf_[pos - 1])) --pos;
    return pos;
  }

  bool finish() {
    move_to(len_);
    out("\n");
    esc_ = Esc::kNone;
    hist_pos_ = 0;
    if (too_long_) {
      too_long_ = false;
      base::format(echo_, "line too long: the limit is {} characters; not run\n", kMaxLine);
      len_ = cursor_ = 0;
      prompt();
      return false;
    }
    remember();
    done_ = true;
    return true;
  }

  void cancel() {
    move_to(len_);
    out("^C\n");
    len_ = cursor_ = 0;
    too_long_ = false;
    hist_pos_ = 0;
    prompt();
  }

  // ---- history: hist_[(hist_head_ - k) % kHistory] is the k-th newest
  // (k = 1..hist_count_). hist_pos_ is the entry shown (0: the line being
  // typed, kept in draft_ while the user walks).
  void remember() {
    if (len_ == 0) return;
    if (hist_count_ > 0 && entry(1) == line()) return;
    History& h = hist_[hist_head_];
    for (size_t i = 0; i < len_; ++i) h.text[i] = buf_[i];
    h.len = len_;
    hist_head_ = (hist_head_ + 1) % kHistory;
    if (hist_count_ < kHistory) ++hist_count_;
  }

  base::StrView entry(size_t k) const {
    const History& h = hist_[(hist_head_ + kHistory - k) % kHistory];
    return base::StrView(h.text, h.len);
  }

  // +1 older, -1 newer.
  void history_step(int dir) {
    size_t next = hist_pos_;
    if (dir > 0 && hist_pos_ < hist_count_) ++next;
    if (dir < 0 && hist_pos_ > 0) --next;
    if (next == hist_pos_) return;
    if (hist_pos_ == 0) {  // leaving the line being typed: keep it
      for (size_t i = 0; i < len_; ++i) draft_.text[i] = buf_[i];
      draft_.len = len_;
    }
    hist_pos_ = next;
    replace(next == 0 ? base::StrView(draft_.text, draft_.len) : entry(next));
  }

  // ---- completion: of the word that ends at the cursor.
  void complete() {
    if (completer_.fn == nullptr) return;
    size_t seg = cursor_;  // start of this command (after the last ';')
    while (seg > 0 && buf_[seg - 1] != ';') --seg;
    size_t wb = cursor_;
    while (wb > seg && !is_space(buf_[wb - 1])) --wb;
    const base::StrView word(buf_ + wb, cursor_ - wb);
    size_t cb = seg;
    while (cb < wb && is_space(buf_[cb])) ++cb;
    size_t ce = cb;
    while (ce < wb && !is_space(buf_[ce])) ++ce;
    const base::StrView command(buf_ + cb, ce - cb);  // empty: completing the name

    Completions found(word, base::Sink{nullptr, nullptr});
    completer_.fn(completer_.ctx, command, word, &found);
    if (found.count() == 0) return;
    const base::StrView common = found.common();
    if (common.size() > word.size()) {
      insert(common.substr(word.size(), common.size() - word.size()));
      if (found.count() == 1) space_after_word();
      return;
    }
    if (found.count() == 1) {
      space_after_word();
      return;
    }
    // Several names and nothing more in common: list them under the line,
    // then draw the prompt and the line again.
    const size_t at = cursor_;
    move_to(len_);
    out("\n");
    Completions lister(word, echo_);
    completer_.fn(completer_.ctx, command, word, &lister);
    out("\n");
    prompt();
    out(line());
    cursor_ = len_;
    move_to(at);
  }

  // A completed name is followed by one space (unless one is there).
  void space_after_word() {
    if (cursor_ == len_ || !is_space(buf_[cursor_])) insert(" ");
  }

  struct History {
    char text[kCapacity];
    size_t len = 0;
  };

  base::Sink echo_;
  base::StrView prompt_;
  Completer completer_;
  char buf_[kCapacity];
  size_t len_ = 0;
  size_t cursor_ = 0;
  bool done_ = false;
  bool last_was_cr_ = false;
  bool too_long_ = false;
  Esc esc_ = Esc::kNone;
  unsigned param_ = 0;
  unsigned params_ = 0;
  History hist_[kHistory];
  History draft_;
  size_t hist_head_ = 0;
  size_t hist_count_ = 0;
  size_t hist_pos_ = 0;
};

}  // namespace monitor
