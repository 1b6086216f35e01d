// Which registered tests and benchmarks a comma-separated glob list picks
// ("*,-lapic.*"): the selection rule of `test=` and `bench=`. Pure logic,
// host-tested. Any context.
#pragma once

#include "src/base/str.h"

namespace ktest {

/// Whether `name` is selected by `patterns`: it matches an including glob
/// and no excluding one (a leading '-' excludes). An `xfail` name is picked
/// only by an including glob that names it explicitly (starts "xfail_").
bool name_selected(base::StrView patterns, base::StrView name, bool xfail);

/// Whether `suite` holds tests that exist to fail ("xfail_*").
inline bool is_xfail_suite(base::StrView suite) { return suite.starts_with("xfail_"); }

}  // namespace ktest
