// Fuzz target for the kernel command-line parser and the boot-option check
// (tools/fuzz.bzl), seeded with the command lines GRUB really passed and
// those of the boot tests (fuzz_corpus/cmdline, tools/fuzz/make_seeds.py).
// The input is the command line, any bytes. Checked: every word and value
// lies inside the text; get() agrees with a re-split (the last key wins);
// every problem reported is counted and names an unknown key or a value
// the option rejects; suggestions are within the promised edit distance;
// edit_distance agrees with a plain reference; uint options stay in range.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/base/testing/fuzz_check.h"
#include "src/monitor/boot_options.h"
#include "src/monitor/cmdline.h"

namespace {

using base::StrView;
using monitor::BootOption;
using monitor::OptionProblem;

struct Text {
  const char* data;
  size_t size;
  bool inside(StrView s) const {
    return s.size() == 0 ||
           (s.data() >= data && s.size() <= size && static_cast<size_t>(s.data() - data) <= size - s.size());
  }
};

bool same(StrView a, StrView b) { return a.size() == b.size() && std::equal(a.data(), a.data() + a.size(), b.data()); }

// Levenshtein distance, the textbook full table.
size_t reference_distance(StrView a, StrView b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
  }
  return d[a.size()][b.size()];
}

struct Word {
  StrView key;
  StrView value;
  bool has_value;
};

struct Problems {
  const Text* text;
  size_t count = 0;
};

void on_problem(const OptionProblem& p, void* arg) {
  auto* problems = static_cast<Problems*>(arg);
  ++problems->count;
  FUZZ_CHECK(problems->text->inside(p.key));
  FUZZ_CHECK(problems->text->inside(p.value));
  if (p.option == nullptr) {
    FUZZ_CHECK(monitor::find_boot_option(p.key) == nullptr);
    if (p.suggestion != nullptr) {
      const size_t limit = std::max<size_t>(2, p.key.size() / 3);
      FUZZ_CHECK(p.key.size() <= 64);
      FUZZ_CHECK(reference_distance(p.key, StrView(p.suggestion->key)) <= limit);
    }
  } else {
    FUZZ_CHECK(p.option == monitor::find_boot_option(p.key));
    FUZZ_CHECK(p.suggestion == nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1024) return 0;  // command lines are short; keep runs fast
  // An exactly-sized copy with no NUL after it: ASan catches a read past.
  std::unique_ptr<char[]> copy(new char[size ? size : 1]);
  std::copy(data, data + size, copy.get());
  const Text text{copy.get(), size};
  const monitor::Cmdline cmdline(StrView(text.data, text.size));

  std::vector<Word> words;
  cmdline.for_each([&](StrView k, StrView v, bool has_value) {
    FUZZ_CHECK(text.inside(k));
    FUZZ_CHECK(text.inside(v));
    FUZZ_CHECK(has_value || v.size() == 0);
    words.push_back({k, v, has_value});
  });
  FUZZ_CHECK(words.size() <= size);                      // every word consumes input
  for (size_t i = 0; i < words.size() && i < 64; ++i) {  // quadratic: a sample
    const Word& w = words[i];
    const Word* last = nullptr;
    for (const Word& o : words) {
      if (same(o.key, w.key)) last = &o;
    }
    bool found = false;
    const StrView got = cmdline.get(w.key, &found);
    FUZZ_CHECK(found);
    FUZZ_CHECK(same(got, last->value));
  }

  Problems problems{&text};
  const size_t n = monitor::check_boot_options(cmdline.text(), on_problem, &problems);
  FUZZ_CHECK(n == problems.count);
  FUZZ_CHECK(n <= words.size());

  // Every option's value is one it takes, or its default.
  for (const BootOption& o : monitor::boot_options()) {
    const StrView v = monitor::boot_option_value(o, cmdline.text());
    FUZZ_CHECK(monitor::boot_option_value_ok(o, v) || same(v, StrView(o.default_value)));
  }

  // The distance of neighbouring keys, capped and uncapped.
  for (size_t i = 0; i + 1 < words.size() && i < 8; ++i) {
    const StrView a = words[i].key, b = words[i + 1].key;
    if (a.size() > 64 || b.size() > 64) continue;
    const size_t ref = reference_distance(a, b);
    for (size_t cap : {size_t{1}, size_t{3}, size_t{100}}) {
      FUZZ_CHECK(monitor::edit_distance(a, b, cap) == std::min(ref, cap));
    }
    (void)monitor::nearest_boot_option(a);
  }
  return 0;
}
