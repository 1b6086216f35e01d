// The kernel's boot options as one constexpr table (key, kind of value,
// range or choices, default, help), and the compile-time check that a key
// is in it as a given kind. It is in a header so that a module's read of an
// option (boot_options.h's accessors) names a key the compiler checks: an
// option the table does not declare, or declares as another kind, cannot
// be read at all. Pure data. Any context.
#pragma once

#include "src/base/str.h"
#include "src/base/types.h"

namespace monitor {

enum class OptionKind : uint8_t {
  kText,    ///< Any value (or none).
  kFlag01,  ///< 0 or 1.
  kUint,    ///< Decimal, in [min, max].
  kChoice,  ///< One of `choices` ("a|b|c").
  kBytes,   ///< A byte count with K/M/G suffixes, in [min, max].
};

struct BootOption {
  const char* key;
  OptionKind kind;
  const char* value_name;  ///< How the README writes the value ("GLOBS", "N").
  uint64_t min;
  uint64_t max;
  const char* choices;  ///< kChoice: "pit|lapic".
  /// What the option is when not given (or given a value it does not take).
  /// A kFlag01 or kChoice default is a value the option takes; a kUint or
  /// kBytes one is a number in range, or words ("off") for "not set".
  const char* default_value;
  const char* help;
};

// README.md's table of arguments lists the same keys
// (boot_options_readme_test checks it).
inline constexpr BootOption kBootOptions[] = {
    {"test", OptionKind::kText, "GLOBS", 0, 0, nullptr, "", "run the in-kernel tests matching the globs"},
    {"bench", OptionKind::kText, "GLOBS", 0, 0, nullptr, "", "run the in-kernel benchmarks matching the globs"},
    {"run", OptionKind::kText, "\"cmd; cmd\"", 0, 0, nullptr, "", "run monitor commands, then power off"},
    {"console", OptionKind::kText, "ttyS0", 0, 0, nullptr, "ttyS0",
     "the boot loader's console (the kernel's is always COM1)"},
    {"console.wrap", OptionKind::kUint, "N", 1, 9999, nullptr, "no wrapping", "wrap console lines at N columns"},
    {"mm.poison", OptionKind::kFlag01, "1", 0, 1, nullptr, "0", "poison freed pages and heap objects, check on reuse"},
    {"mm.init", OptionKind::kChoice, "boot", 0, 0, "background|boot|demand", "background",
     "when page metadata past the first 256 MiB is prepared: by a thread, at boot, or by allocations"},
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

/// Whether the table declares `key` as an option of `kind`.
constexpr bool boot_option_declared(base::StrView key, OptionKind kind) {
  for (const BootOption& o : kBootOptions) {
    if (base::StrView(o.key) == key) return o.kind == kind;
  }
  return false;
}

namespace detail {
// Deliberately not constexpr and never defined: OptionKey's constructor
// calls it for a key the table does not declare as its kind, which makes
// the constant evaluation, and so the compilation, fail with this name in
// the note.
void boot_option_key_not_in_the_table_as_this_kind();
}  // namespace detail

/// A key the table declares as an option of kind K, checked when the
/// program is compiled: pass the string literal ("timer") where an accessor
/// takes an OptionKey.
template <OptionKind K>
class OptionKey {
 public:
  consteval OptionKey(const char* key) : key_(key) {  // NOLINT(google-explicit-constructor): literals convert
    if (!boot_option_declared(base::StrView(key), K)) detail::boot_option_key_not_in_the_table_as_this_kind();
  }
  constexpr base::StrView key() const { return base::StrView(key_); }

 private:
  const char* key_;
};

}  // namespace monitor
