// The kernel's boot options (the table is boot_option_table.h): the check of
// a command line against them, where an unknown key is named with the
// nearest known one ("did you mean") and a value the option does not take
// with what it accepts; and the typed accessors through which every module
// reads its option, so that parsing and validation live here alone. A bad
// value was named at boot by check_boot_options, so an accessor gives the
// table's default for it. Pure logic, host-tested. Any context.
#pragma once

#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/str.h"
#include "src/base/types.h"
#include "src/monitor/boot_option_table.h"

namespace monitor {

/// Every option the kernel reads.
base::Span<const BootOption> boot_options();

/// The option called `key`, or null.
const BootOption* find_boot_option(base::StrView key);

/// Whether `value` is one `option` takes.
bool boot_option_value_ok(const BootOption& option, base::StrView value);

/// The value `option` has on `cmdline`: the last one given, when the option
/// takes it; else the table's default (its words for a number option that
/// has no numeric default, e.g. "off").
base::StrView boot_option_value(const BootOption& option, base::StrView cmdline);

/// A kText option's value (the last one given; empty for a bare key), or
/// kNotFound when `cmdline` does not give it.
base::Result<base::StrView> boot_option_text(base::StrView cmdline, OptionKey<OptionKind::kText> key);

/// A kFlag01 option's value.
bool boot_option_flag(base::StrView cmdline, OptionKey<OptionKind::kFlag01> key);

/// A kChoice option's value: one of its choices.
base::StrView boot_option_choice(base::StrView cmdline, OptionKey<OptionKind::kChoice> key);

/// Whether a kChoice option's value is `choice`. Panics when `choice` is not
/// one of the option's (a kernel bug: the comparison could never be true).
bool boot_option_is(base::StrView cmdline, OptionKey<OptionKind::kChoice> key, base::StrView choice);

/// A kUint option's value, in the table's range; kNotFound when it is not
/// given (or given a bad value) and its default is not a number ("off").
base::Result<uint64_t> boot_option_uint(base::StrView cmdline, OptionKey<OptionKind::kUint> key);

/// A kBytes option's value, in the table's range; kNotFound as for
/// boot_option_uint.
base::Result<uint64_t> boot_option_bytes(base::StrView cmdline, OptionKey<OptionKind::kBytes> key);

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
