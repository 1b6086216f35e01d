// Host timings of the Objs operations per implementation (Google
// Benchmark): the same order as bench=rt's guest instruction counts should
// show up in nanoseconds on a real CPU. Run:
//   tools/bazel run -c opt //src/rt:objs_host_bench
#include <benchmark/benchmark.h>

#include "src/rt/objs.h"
#include "src/rt/objs_avx2.h"
#include "src/rt/objs_scalar.h"
#include "src/rt/objs_sse2.h"

namespace rt {
namespace {

struct Impl {
  void (*add)(Objs&, const Objs&);
  void (*sub)(Objs&, const Objs&);
  ObjsMask (*cmp)(const Objs&, const Objs&);
  bool (*take)(Objs&, const Objs&, ObjsAccount&);
  ObjsGive (*give)(Objs&, const ObjsAccount&, const Objs&, const Objs&);
  bool (*runs_here)();
};

const Impl kScalar{objs_add_scalar,  objs_sub_scalar,  objs_cmp_scalar,
                   objs_take_scalar, objs_give_scalar, [] { return true; }};
const Impl kSse2{objs_add_sse2,  objs_sub_sse2,  objs_cmp_sse2,
                 objs_take_sse2, objs_give_sse2, [] { return __builtin_cpu_supports("sse2") != 0; }};
const Impl kAvx2{objs_add_avx2,  objs_sub_avx2,  objs_cmp_avx2,
                 objs_take_avx2, objs_give_avx2, [] { return __builtin_cpu_supports("avx2") != 0; }};

// Inputs where every class differs, as bench=rt uses.
void fill(Objs& a, Objs& b) {
  for (unsigned i = 0; i < kObjsClasses; ++i) {
    a[i] = i * 7 + 3;
    b[i] = (i % 2) ? a[i] - 1 : a[i] + 1;
  }
}

bool usable(benchmark::State& state, const Impl& impl) {
  if (impl.runs_here()) return true;
  state.SkipWithError("this CPU lacks the instructions");
  return false;
}

void BM_Add(benchmark::State& state, const Impl* impl) {
  if (!usable(state, *impl)) return;
  Objs a, b;
  fill(a, b);
  for (auto _ : state) {
    impl->add(a, b);
    benchmark::DoNotOptimize(a);
  }
}

void BM_Sub(benchmark::State& state, const Impl* impl) {
  if (!usable(state, *impl)) return;
  Objs a, b;
  fill(a, b);
  for (auto _ : state) {
    impl->sub(a, b);
    benchmark::DoNotOptimize(a);
  }
}

void BM_Cmp(benchmark::State& state, const Impl* impl) {
  if (!usable(state, *impl)) return;
  Objs a, b;
  fill(a, b);
  for (auto _ : state) benchmark::DoNotOptimize(impl->cmp(a, b));
}

// A reserve's take and a release's give, as one pair (the credit returns
// to where it was, so every iteration takes the same path).
void BM_TakeGive(benchmark::State& state, const Impl* impl) {
  if (!usable(state, *impl)) return;
  Objs avail{}, want{}, keep{}, site_peak{};
  for (unsigned i = 0; i < kObjsClasses; ++i) {
    avail[i] = 64;
    want[i] = i % 3;
    keep[i] = 1000;
    site_peak[i] = 100;
  }
  ObjsAccount acct;
  for (auto _ : state) {
    benchmark::DoNotOptimize(impl->take(avail, want, acct));
    benchmark::DoNotOptimize(impl->give(avail, acct, keep, site_peak));
  }
}

BENCHMARK_CAPTURE(BM_Add, scalar, &kScalar);
BENCHMARK_CAPTURE(BM_Add, sse2, &kSse2);
BENCHMARK_CAPTURE(BM_Add, avx2, &kAvx2);
BENCHMARK_CAPTURE(BM_Sub, scalar, &kScalar);
BENCHMARK_CAPTURE(BM_Sub, sse2, &kSse2);
BENCHMARK_CAPTURE(BM_Sub, avx2, &kAvx2);
BENCHMARK_CAPTURE(BM_Cmp, scalar, &kScalar);
BENCHMARK_CAPTURE(BM_Cmp, sse2, &kSse2);
BENCHMARK_CAPTURE(BM_Cmp, avx2, &kAvx2);
BENCHMARK_CAPTURE(BM_TakeGive, scalar, &kScalar);
BENCHMARK_CAPTURE(BM_TakeGive, sse2, &kSse2);
BENCHMARK_CAPTURE(BM_TakeGive, avx2, &kAvx2);

}  // namespace
}  // namespace rt

BENCHMARK_MAIN();
