// Fuzz-harness helper: a property the harness checks on the parser's
// answer. A violation aborts, which libFuzzer reports as a crash and saves
// the input that caused it (tools/fuzz.bzl).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
