// A libFuzzer target with planted faults, for //tools/fuzz:fuzz_test_fails_test:
// an input that starts with "plant" crashes, leaks, hangs or allocates 3 GiB
// as the PLANTED_FAULT environment variable says (unset: nothing happens),
// so the test can prove that a fuzz_test fails on each and says which on
// its final line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

// Through a volatile global, so the compiler keeps the leaked malloc.
void* volatile planted_leak_sink = nullptr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kFault = getenv("PLANTED_FAULT");
  if (kFault == nullptr || size < 5 || memcmp(data, "plant", 5) != 0) return 0;
  if (strcmp(kFault, "crash") == 0) {
    volatile int* volatile null = nullptr;
    *null = 1;
  } else if (strcmp(kFault, "leak") == 0) {
    planted_leak_sink = malloc(64);
    planted_leak_sink = nullptr;  // nothing points at the block now
  } else if (strcmp(kFault, "hang") == 0) {
    for (volatile uint64_t spins = 0;; spins = spins + 1) {
    }
  } else if (strcmp(kFault, "oom") == 0) {
    // Past -rss_limit_mb=2048, which also limits one malloc.
    void* volatile big = malloc(size_t{3} << 30);
    free(big);
  }
  return 0;
}
