// In-kernel benchmarks. `BENCH(suite, name) { ... }` registers a benchmark
// in the .bench section, from any module's kernel-only test library; the
// body times its measured loop with run.start()/run.stop() over
// run.iterations() rounds. bench_runner.h runs them. Thread context.
#pragma once

#include "src/base/types.h"

namespace ktest {

class BenchRun {
 public:
  explicit BenchRun(uint64_t iterations) : iterations_(iterations) {}
  uint64_t iterations() const { return iterations_; }
  // Out of line on purpose: every recorded figure includes these calls.
  void start();
  void stop();
  /// Adds cycles measured some other way (e.g. by another thread).
  void add_cycles(uint64_t cycles) { cycles_ += cycles; }
  /// Marks the run as unable to measure (e.g. too few CPUs); why is printed.
  void skip(const char* why) { skipped_ = why; }

  uint64_t cycles() const { return cycles_; }
  const char* skipped() const { return skipped_; }

 private:
  uint64_t iterations_;
  uint64_t started_ = 0;
  uint64_t cycles_ = 0;
  const char* skipped_ = nullptr;
};

struct BenchCase {
  const char* suite;
  const char* name;
  void (*fn)(BenchRun&);
  uint64_t iterations;
};

}  // namespace ktest

#define BENCH_N(suite, name, iters)                                                                      \
  static void bench_fn_##suite##_##name(::ktest::BenchRun& run);                                         \
  [[gnu::used, gnu::section(".bench")]] static constexpr ::ktest::BenchCase bench_case_##suite##_##name{ \
      #suite, #name, &bench_fn_##suite##_##name, iters};                                                 \
  static void bench_fn_##suite##_##name([[maybe_unused]] ::ktest::BenchRun& run)

#define BENCH(suite, name) BENCH_N(suite, name, 1000)
