// ASSERT, DEBUG_ASSERT and PANIC. A failed assertion is a broken invariant:
// it panics with the file, line and the message naming the invariant.
// The panic backend is per platform: the kernel prints a backtrace and
// powers off; the host build aborts (so tests can use death tests).
#pragma once

#include "src/base/format.h"

namespace base {

/// Provided by the platform: reports `msg` at file:line and never returns.
[[noreturn]] void panic_message(const char* file, int line, const char* msg);

template <typename... Args>
[[noreturn]] __attribute__((noinline, cold)) void panic(const char* file, int line, StrView fmt, const Args&... args) {
  char msg[256];
  format_to(msg, sizeof(msg), fmt, args...);
  panic_message(file, line, msg);
}

}  // namespace base

#define PANIC(...) ::base::panic(__FILE__, __LINE__, __VA_ARGS__)

/// Always on, in every build.
#define ASSERT(cond)                                                        \
  do {                                                                      \
    if (__builtin_expect(!(cond), 0)) PANIC("assertion failed: {}", #cond); \
  } while (0)

/// Always on, with a formatted explanation.
#define ASSERT_MSG(cond, ...)                             \
  do {                                                    \
    if (__builtin_expect(!(cond), 0)) PANIC(__VA_ARGS__); \
  } while (0)

/// Compiled out (the condition is not evaluated) unless BISCOTTI_DEBUG,
/// which host -c dbg builds and --//src/base:debug_asserts=true define.
#ifdef BISCOTTI_DEBUG
#define DEBUG_ASSERT(cond) ASSERT(cond)
#else
#define DEBUG_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

namespace base {

/// Whether this build evaluates DEBUG_ASSERT (a debug build).
#ifdef BISCOTTI_DEBUG
inline constexpr bool kDebugAsserts = true;
#else
inline constexpr bool kDebugAsserts = false;
#endif

}  // namespace base
