// See boot_options.h.
#include "src/monitor/boot_options.h"

#include "src/base/assert.h"
#include "src/base/byte_size.h"
#include "src/monitor/cmdline.h"

namespace monitor {
namespace {

using base::StrView;

// The table. README.md's table of arguments lists the same keys
// (boot_options_readme_test checks it).
constexpr BootOption kOptions[] = {
    {"test", OptionKind::kText, "GLOBS", 0, 0, nullptr, "", "run the in-kernel tests matching the globs"},
    {"bench", OptionKind::kText, "GLOBS", 0, 0, nullptr, "", "run the in-kernel benchmarks matching the globs"},
    {"run", OptionKind::kText, "\"cmd; cmd\"", 0, 0, nullptr, "", "run monitor commands, then power off"},
    {"console", OptionKind::kText, "ttyS0", 0, 0, nullptr, "ttyS0",
     "the boot loader's console (the kernel's is always COM1)"},
    {"console.wrap", OptionKind::kUint, "N", 1, 9999, nullptr, "no wrapping", "wrap console lines at N columns"},
    {"mm.poison", OptionKind::kFlag01, "1", 0, 1, nullptr, "0", "poison freed pages and heap objects, check on reuse"},
    {"timer", OptionKind::kChoice, "pit", 0, 0, "pit|lapic", "lapic", "which timer ticks: the LAPIC's or the PIT"},
    {"rt.max_heap", OptionKind::kBytes, "BYTES", 1, uint64_t{1} << 60, nullptr, "all usable memory",
     "the heap's maximum, against which reservations are made"},
    {"rt.overrun", OptionKind::kChoice, "panic", 0, 0, "report|panic", "report",
     "what an allocation past its reservation does"},
    {"watchdog", OptionKind::kUint, "SECONDS", 0, 3600, nullptr, "10",
     "report a CPU stuck with interrupts off and no timer tick for this long (0: off)"},
    {"ktest.timing", OptionKind::kChoice, "exact", 0, 0, "exact|host", "host",
     "how tests bound time: exactly (under -icount) or generously (host time)"},
    {"torture.seconds", OptionKind::kUint, "SECONDS", 1, 3600, nullptr, "10",
     "how long the combined torture (test torture.*) runs its load"},
    {"app", OptionKind::kChoice, "off", 0, 0, "on|off", "on",
     "start a biscotti_kernel application's app_main (off: its commands and tests alone)"},
    {"smp.ap_wait_ms", OptionKind::kUint, "MS", 0, 60000, nullptr, "1000",
     "how long the boot CPU waits for the other CPUs to arrive before skipping the late ones (0: none)"},
    {"boot.timing", OptionKind::kFlag01, "1", 0, 1, nullptr, "0",
     "print how long each boot phase took (`boot: phases: ...`)"},
    {"prof.start", OptionKind::kUint, "HZ", 20, 10000, nullptr, "off",
     "profile every CPU at HZ from boot through the jobs, then print the dump"},
    {"fail.page", OptionKind::kUint, "P", 0, 1000, nullptr, "0",
     "page_alloc fails P times in 1000 inside fault scopes (testing)"},
    {"fail.heap", OptionKind::kUint, "P", 0, 1000, nullptr, "0",
     "kmalloc fails P times in 1000 inside fault scopes, outside reservations (testing)"},
    {"fail.reserve", OptionKind::kUint, "P", 0, 1000, nullptr, "0",
     "heap reservations fail P times in 1000 inside fault scopes (testing)"},
    {"fail.seed", OptionKind::kUint, "N", 0, ~uint64_t{0}, nullptr, "1",
     "the seed of the fail.* per-CPU random streams"},
};

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
    if (c < '0' || c > '9' || v > (~uint64_t{0} - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

base::Span<const BootOption> boot_options() {
  return base::Span<const BootOption>(kOptions, sizeof(kOptions) / sizeof(kOptions[0]));
}

const BootOption* find_boot_option(StrView key) {
  for (const BootOption& o : boot_options()) {
    if (StrView(o.key) == key) return &o;
  }
  return nullptr;
}

base::Result<uint64_t> boot_option_uint(StrView cmdline, StrView key) {
  const BootOption* option = find_boot_option(key);
  ASSERT_MSG(option != nullptr && option->kind == OptionKind::kUint, "boot option {} is not a number option", key);
  bool found = false;
  StrView text = Cmdline(cmdline).get(key, &found);
  if (!found) return base::Error::kNotFound;
  uint64_t v = 0;
  if (!parse_uint(text, &v) || v < option->min || v > option->max) return base::Error::kInvalidArgument;
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
