// See timing.h.
#include "src/ktest/timing.h"

#include "src/monitor/boot_options.h"

namespace ktest {
namespace {

constinit bool exact = false;  // written once at boot, before any test runs

}  // namespace

void timing_init(base::StrView cmdline) {
  // A bad value was named by the boot-options check; host time stays.
  exact = monitor::boot_option_is(cmdline, "ktest.timing", "exact");
}

bool exact_timing() { return exact; }

}  // namespace ktest
