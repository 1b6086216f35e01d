// A host program with debug info for symbolizer_test and the pprof check:
// `profile_fixture_leaf` is inlined into `profile_fixture_outer`, which
// main calls, so the symbolizer reports an inlined frame with file:line.
// The functions are extern "C" so tests find them by name with llvm-nm.
extern "C" {

static inline __attribute__((always_inline)) int profile_fixture_leaf(int x) {
  return x * 3 + __builtin_popcount(static_cast<unsigned>(x));
}

__attribute__((noinline)) int profile_fixture_outer(int x) { return profile_fixture_leaf(x) + 1; }

}  // extern "C"

int main(int argc, char**) { return profile_fixture_outer(argc) == 0 ? 1 : 0; }
