// In-kernel test of base on the kernel build: formatting compiled
// freestanding (no libc) gives what the host tests check.
#include "src/base/format.h"
#include "src/base/str.h"
#include "src/ktest/ktest.h"

namespace {

KTEST(base, format_in_kernel) {
  char buf[64];
  base::format_to(buf, sizeof(buf), "{} {:#x} {:<4}|{}", -12, 0xfee0'0000u, "ab", 'z');
  KEXPECT_TRUE(base::StrView(buf) == base::StrView("-12 0xfee00000 ab  |z"));
}

}  // namespace
