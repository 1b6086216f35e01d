// Console input read ahead of the line editor while a command runs, so that
// a Ctrl-C typed behind other bytes is found (monitor::interrupt_requested)
// and taken out while every other byte stays, in order, for the prompt.
// Pure logic: the source is a callback, so host tests feed it. Thread
// context, one thread (the monitor's).
#pragma once

#include "src/base/types.h"

namespace monitor {

template <size_t kCapacity>
class ReadAhead {
 public:
  /// Reads from `read(ctx)` (a byte, or -1 for none) until it has nothing or
  /// this is full; what does not fit stays in the source.
  void fill(int (*read)(void* ctx), void* ctx) {
    while (len_ < kCapacity) {
      const int c = read(ctx);
      if (c < 0) return;
      buf_[len_++] = static_cast<char>(c);
    }
  }

  /// Takes the first `byte` out; whether there was one.
  bool take(char byte) {
    for (size_t i = 0; i < len_; ++i) {
      if (buf_[i] != byte) continue;
      remove_at(i);
      return true;
    }
    return false;
  }

  /// The oldest byte, or -1 when empty.
  int pop() {
    if (len_ == 0) return -1;
    const unsigned char c = static_cast<unsigned char>(buf_[0]);
    remove_at(0);
    return c;
  }

  size_t size() const { return len_; }

 private:
  // O(n) moves: a few hundred bytes at most, at human speed.
  void remove_at(size_t i) {
    --len_;
    for (size_t j = i; j < len_; ++j) buf_[j] = buf_[j + 1];
  }

  char buf_[kCapacity] = {};  // initialised: the kernel's is constinit
  size_t len_ = 0;
};

}  // namespace monitor
