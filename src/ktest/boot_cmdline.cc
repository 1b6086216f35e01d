// See boot_cmdline.h.
#include "src/ktest/boot_cmdline.h"

namespace ktest {
namespace {
constinit base::StrView cmdline_;  // written once at boot, before any test runs
}  // namespace

void set_boot_cmdline(base::StrView cmdline) { cmdline_ = cmdline; }

base::StrView boot_cmdline() { return cmdline_; }

}  // namespace ktest
