// Glob selection of tests and benchmarks (see select.h).
#include "src/ktest/select.h"

namespace ktest {

bool name_selected(base::StrView patterns, base::StrView name, bool xfail) {
  bool included = false;
  bool excluded = !base::for_each_field(patterns, ',', [&](base::StrView p) {
    if (p.starts_with("-")) return !base::glob_match(p.substr(1), name);
    if (!p.empty() && base::glob_match(p, name) && (!xfail || is_xfail_suite(p))) included = true;
    return true;
  });
  return included && !excluded;
}

}  // namespace ktest
