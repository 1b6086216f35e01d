// Tab after `test` and `bench`: the suite names of the registered cases,
// each once. Pure logic over any case type with a `suite` string, so the
// host tests check it on a hand-made table. Any context.
#pragma once

#include "src/base/span.h"
#include "src/base/str.h"
#include "src/monitor/completions.h"

namespace ktest {

/// Adds each distinct `suite` of `cases` to `out`, in first-seen order.
/// Quadratic, without allocation: a few hundred cases, once per Tab.
template <typename CaseT>
void add_suite_names(base::Span<const CaseT> cases, monitor::Completions* out) {
  for (size_t i = 0; i < cases.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = base::StrView(cases[j].suite) == base::StrView(cases[i].suite);
    if (!seen) out->add(cases[i].suite);
  }
}

}  // namespace ktest
