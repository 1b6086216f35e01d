// Host panic backend: print and abort, so GoogleTest death tests can match
// the message.
#include <cstdio>
#include <cstdlib>

#include "src/base/assert.h"

namespace base {

void panic_message(const char* file, int line, const char* msg) {
  std::fprintf(stderr, "PANIC at %s:%d: %s\n", file, line, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace base
