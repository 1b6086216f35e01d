// Tests that fit the machine they boot on. A test whose working set is
// fixed by what it checks (10,000 threads, a 1 MiB sample ring per CPU, a
// free block of every order) declares the usable memory it needs, and on a
// smaller boot reports SKIP with both figures instead of failing for want
// of memory. The check is against the boot's usable memory, not what
// happens to be free: a configuration always skips the same tests, and a
// leak that eats free memory still fails them. (CPU needs are checked
// with KTEST_SKIP and a reason naming what the other CPU is for.) Thread
// context, inside a test.
#pragma once

#include "src/base/types.h"
#include "src/ktest/ktest.h"

namespace ktest {

/// Marks the test skipped when this boot has fewer than `need` bytes of
/// usable memory; whether it did (the test then returns). For helpers
/// that cannot use the macro.
bool skip_unless_memory(Context& ctx, uint64_t need);

}  // namespace ktest

/// Ends the test as skipped, naming need and boot, when the boot has fewer
/// than `bytes` of usable memory.
#define KTEST_REQUIRE_MEMORY(bytes)                              \
  do {                                                           \
    if (::ktest::skip_unless_memory(ktest_ctx, (bytes))) return; \
  } while (0)
