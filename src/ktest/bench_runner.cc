// The benchmark runner (see bench_runner.h).
#include "src/ktest/bench_runner.h"

#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/base/format.h"
#include "src/ktest/bench.h"
#include "src/ktest/select.h"
#include "src/monitor/command.h"

extern "C" const ktest::BenchCase __bench_start[], __bench_end[];

namespace ktest {
namespace {

constexpr int kSamples = 7;

uint64_t median(uint64_t* v, int n) {
  for (int i = 1; i < n; ++i)  // insertion sort: seven values
    for (int j = i; j > 0 && v[j] < v[j - 1]; --j) {
      uint64_t t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  return v[n / 2];
}

}  // namespace

unsigned run_benches(base::StrView patterns, bool* interrupted) {
  unsigned ran = 0;
  *interrupted = false;
  for (const BenchCase* bc = __bench_start; bc != __bench_end; ++bc) {
    char full[96];
    size_t n = base::format_to(full, sizeof(full), "{}.{}", bc->suite, bc->name);
    base::StrView name(full, n < sizeof(full) ? n : sizeof(full) - 1);
    // "bench=mm" names a whole suite.
    if (!name_selected(patterns, name, false) && !name_selected(patterns, base::StrView(bc->suite), false)) continue;
    if (monitor::interrupt_requested()) {
      *interrupted = true;
      arch::kprint("bench: interrupted before {}\n", name);
      return ran;
    }
    ++ran;
    uint64_t per_iter[kSamples];
    const char* skipped = nullptr;
    // One warm-up run (caches, lazily built state), then the samples.
    for (int s = -1; s < kSamples && !skipped; ++s) {
      BenchRun run(bc->iterations);
      bc->fn(run);
      skipped = run.skipped();
      if (s >= 0) per_iter[s] = run.cycles() / bc->iterations;
    }
    if (skipped) {
      arch::kprint("bench {} skipped: {}\n", name, skipped);
      continue;
    }
    uint64_t cycles = median(per_iter, kSamples);
    arch::kprint("bench {} cycles={} ns={}\n", name, cycles, cycles * 1'000'000'000 / arch::tsc_hz());
  }
  return ran;
}

}  // namespace ktest
