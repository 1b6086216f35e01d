// The kernel's boot options in one declarative table (key, kind of value,
// range or choices, default, help) and the check of a command line against
// it: an unknown key is named with the nearest known one ("did you mean"),
// and a value the option does not take is named with what it accepts. The
// modules read their values with Cmdline::get; the table is what the user
// is told, what `options` lists and what the README's table is tested
// against. Pure logic, host-tested. Any context.
#pragma once

#include "src/base/result.h"
#include "src/base/span.h"
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
  const char* default_value;
  const char* help;
};

/// Every option the kernel reads.
base::Span<const BootOption> boot_options();

/// The option called `key`, or null.
const BootOption* find_boot_option(base::StrView key);

/// Whether `value` is one `option` takes.
bool boot_option_value_ok(const BootOption& option, base::StrView value);

/// The value of the kUint option `key` in `cmdline` (the last one given),
/// checked against the table's range: kNotFound when the command line does
/// not give it, kInvalidArgument when the value is not a number in range
/// (check_boot_options has named it at boot; the caller keeps its default).
/// Panics for a key the table does not list as kUint (a kernel bug).
base::Result<uint64_t> boot_option_uint(base::StrView cmdline, base::StrView key);

/// The known key nearest to `key` by edit distance (at most 2, or a third
/// of the key's length), or null.
const BootOption* nearest_boot_option(base::StrView key);

/// One thing wrong with a command line: an unknown key (`option` null,
/// `suggestion` the nearest known key or null) or a bad value.
struct OptionProblem {
  base::StrView key;
  base::StrView value;
  const BootOption* option;
  const BootOption* suggestion;
};

/// Calls fn(const OptionProblem&) for every unknown key and bad value in
/// `cmdline`, in order; returns how many.
size_t check_boot_options(base::StrView cmdline, void (*fn)(const OptionProblem& p, void* arg), void* arg);

/// The edit (Levenshtein) distance of `a` and `b`, capped at `cap`.
size_t edit_distance(base::StrView a, base::StrView b, size_t cap);

}  // namespace monitor
