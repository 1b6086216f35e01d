// See boot_options.h.
#include "src/monitor/boot_options.h"

#include "src/base/assert.h"
#include "src/base/byte_size.h"
#include "src/monitor/cmdline.h"

namespace monitor {
namespace {

using base::StrView;

bool is_choice(const char* choices, StrView value) {
  StrView rest(choices);
  for (;;) {
    size_t bar = rest.find('|');
    StrView one = bar == StrView::npos ? rest : rest.substr(0, bar);
    if (one == value) return true;
    if (bar == StrView::npos) return false;
    rest = rest.substr(bar + 1);
  }
}

bool parse_uint(StrView text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    // Exact, so that fail.seed's range (all of uint64_t) ends where it says.
    if (v > (~uint64_t{0} - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

}  // namespace

base::Span<const BootOption> boot_options() {
  return base::Span<const BootOption>(kBootOptions, sizeof(kBootOptions) / sizeof(kBootOptions[0]));
}

const BootOption* find_boot_option(StrView key) {
  for (const BootOption& o : boot_options()) {
    if (StrView(o.key) == key) return &o;
  }
  return nullptr;
}

StrView boot_option_value(const BootOption& option, StrView cmdline) {
  bool found = false;
  const StrView value = Cmdline(cmdline).get(StrView(option.key), &found);
  return found && boot_option_value_ok(option, value) ? value : StrView(option.default_value);
}

namespace {

// The option `key` names: OptionKey checked at compile time that it is in
// the table as that kind, so a miss here is a broken table.
template <OptionKind K>
const BootOption& option_of(OptionKey<K> key) {
  const BootOption* option = find_boot_option(key.key());
  ASSERT_MSG(option != nullptr && option->kind == K, "boot option {} is not in the table as this kind", key.key());
  return *option;
}

}  // namespace

base::Result<StrView> boot_option_text(StrView cmdline, OptionKey<OptionKind::kText> key) {
  (void)option_of(key);
  bool found = false;
  const StrView value = Cmdline(cmdline).get(key.key(), &found);
  if (!found) return base::Error::kNotFound;
  return value;
}

bool boot_option_flag(StrView cmdline, OptionKey<OptionKind::kFlag01> key) {
  return boot_option_value(option_of(key), cmdline) == StrView("1");
}

StrView boot_option_choice(StrView cmdline, OptionKey<OptionKind::kChoice> key) {
  return boot_option_value(option_of(key), cmdline);
}

bool boot_option_is(StrView cmdline, OptionKey<OptionKind::kChoice> key, StrView choice) {
  const BootOption& option = option_of(key);
  ASSERT_MSG(is_choice(option.choices, choice), "boot option {} has no choice '{}' (only {})", key.key(), choice,
             option.choices);
  return boot_option_value(option, cmdline) == choice;
}

base::Result<uint64_t> boot_option_uint(StrView cmdline, OptionKey<OptionKind::kUint> key) {
  uint64_t v = 0;
  if (!parse_uint(boot_option_value(option_of(key), cmdline), &v)) return base::Error::kNotFound;
  return v;
}

base::Result<uint64_t> boot_option_bytes(StrView cmdline, OptionKey<OptionKind::kBytes> key) {
  base::Result<uint64_t> v = base::parse_byte_size(boot_option_value(option_of(key), cmdline));
  if (!v.ok()) return base::Error::kNotFound;
  return v;
}

bool boot_option_value_ok(const BootOption& option, StrView value) {
  uint64_t v = 0;
  switch (option.kind) {
    case OptionKind::kText:
      return true;
    case OptionKind::kFlag01:
      return value == StrView("0") || value == StrView("1");
    case OptionKind::kUint:
      return parse_uint(value, &v) && v >= option.min && v <= option.max;
    case OptionKind::kChoice:
      return is_choice(option.choices, value);
    case OptionKind::kBytes: {
      base::Result<uint64_t> b = base::parse_byte_size(value);
      return b.ok() && b.value() >= option.min && b.value() <= option.max;
    }
  }
  return false;
}

size_t edit_distance(StrView a, StrView b, size_t cap) {
  // Two rows of the dynamic programme; keys are short (capped at 64).
  constexpr size_t kMax = 64;
  if (a.size() > kMax || b.size() > kMax) return cap;
  size_t prev[kMax + 1], cur[kMax + 1];
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      const size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      if (cur[j] < row_min) row_min = cur[j];
    }
    if (row_min >= cap) return cap;
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = cur[j];
  }
  return prev[b.size()] < cap ? prev[b.size()] : cap;
}

const BootOption* nearest_boot_option(StrView key) {
  const size_t limit = key.size() / 3 > 2 ? key.size() / 3 : 2;
  const BootOption* best = nullptr;
  size_t best_d = limit + 1;
  for (const BootOption& o : boot_options()) {
    const size_t d = edit_distance(key, StrView(o.key), limit + 1);
    if (d < best_d) {
      best_d = d;
      best = &o;
    }
  }
  return best;
}

size_t check_boot_options(StrView cmdline, void (*fn)(const OptionProblem& p, void* arg), void* arg) {
  size_t problems = 0;
  Cmdline(cmdline).for_each([&](StrView key, StrView value, bool has_value) {
    const BootOption* o = find_boot_option(key);
    if (o == nullptr) {
      ++problems;
      fn(OptionProblem{key, value, nullptr, nearest_boot_option(key)}, arg);
      return;
    }
    // A bare key is a value of "" (kText takes it; the others do not).
    if (!boot_option_value_ok(*o, has_value ? value : StrView())) {
      ++problems;
      fn(OptionProblem{key, value, o, nullptr}, arg);
    }
  });
  return problems;
}

}  // namespace monitor
