// What Tab at the prompt offers for a word: the line editor collects the
// names a completer adds. Here, apart from the editor, so that a command
// (command.h) can complete its own arguments while depending on base only.
// Any context.
#pragma once

#include "src/base/format.h"
#include "src/base/str.h"

namespace monitor {

/// What Tab offers: a completer calls add() for every name that could go
/// where the word under the cursor is; add() keeps those the word starts.
/// The names must outlive the completer call (static strings).
class Completions {
 public:
  Completions(base::StrView word, base::Sink list) : word_(word), list_(list) {}

  void add(base::StrView name) {
    if (!name.starts_with(word_)) return;
    if (list_.write != nullptr) {  // listing pass: print each, two spaces apart
      list_.write(list_.ctx, name.data(), name.size());
      list_.write(list_.ctx, "  ", 2);
    }
    if (count_++ == 0) {
      common_ = name;
      return;
    }
    size_t n = 0;
    while (n < common_.size() && n < name.size() && common_[n] == name[n]) ++n;
    common_ = common_.substr(0, n);
  }

  size_t count() const { return count_; }
  /// The longest prefix every kept name shares (starts with the word).
  base::StrView common() const { return common_; }

 private:
  base::StrView word_;
  base::Sink list_;
  base::StrView common_;
  size_t count_ = 0;
};

}  // namespace monitor
