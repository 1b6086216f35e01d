// The Objs operations per implementation (`bench=rt`): guest instructions
// per call under --icount, the call included, inside one SimdRegion.
#include "src/ktest/bench.h"
#include "src/rt/objs.h"
#include "src/rt/objs_avx2.h"
#include "src/rt/objs_scalar.h"
#include "src/rt/objs_sse2.h"
#include "src/sched/simd.h"

namespace rt {
namespace {

constexpr uint64_t kIters = 5000;

// Inputs where every class differs, so the compare's answer is not trivial.
void fill(Objs& a, Objs& b) {
  for (unsigned i = 0; i < kObjsClasses; ++i) {
    a[i] = i * 7 + 3;
    b[i] = (i % 2) ? a[i] - 1 : a[i] + 1;
  }
}

// `volatile` keeps the compare's result (and so the call) alive.
void bench_cmp(ktest::BenchRun& run, ObjsImpl impl, ObjsMask (*cmp)(const Objs&, const Objs&)) {
  if (!objs_impl_available(impl)) return run.skip("not available on this CPU");
  Objs a, b;
  fill(a, b);
  volatile ObjsMask sink = 0;
  sched::SimdRegion simd;
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) sink = cmp(a, b);
  run.stop();
  (void)sink;
}

// Adds (or subtracts) into a counter set that lives in memory, as callers'
// per-CPU credit does.
void bench_update(ktest::BenchRun& run, ObjsImpl impl, void (*op)(Objs&, const Objs&)) {
  if (!objs_impl_available(impl)) return run.skip("not available on this CPU");
  Objs a, b;
  fill(a, b);
  sched::SimdRegion simd;
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) op(a, b);
  run.stop();
  asm volatile("" ::"r"(&a) : "memory");
}

BENCH_N(rt, objs_add_scalar, kIters) { bench_update(run, ObjsImpl::kScalar, objs_add_scalar); }
BENCH_N(rt, objs_add_sse2, kIters) { bench_update(run, ObjsImpl::kSse2, objs_add_sse2); }
BENCH_N(rt, objs_add_avx2, kIters) { bench_update(run, ObjsImpl::kAvx2, objs_add_avx2); }
BENCH_N(rt, objs_sub_scalar, kIters) { bench_update(run, ObjsImpl::kScalar, objs_sub_scalar); }
BENCH_N(rt, objs_sub_sse2, kIters) { bench_update(run, ObjsImpl::kSse2, objs_sub_sse2); }
BENCH_N(rt, objs_sub_avx2, kIters) { bench_update(run, ObjsImpl::kAvx2, objs_sub_avx2); }
BENCH_N(rt, objs_cmp_scalar, kIters) { bench_cmp(run, ObjsImpl::kScalar, objs_cmp_scalar); }
BENCH_N(rt, objs_cmp_sse2, kIters) { bench_cmp(run, ObjsImpl::kSse2, objs_cmp_sse2); }
BENCH_N(rt, objs_cmp_avx2, kIters) { bench_cmp(run, ObjsImpl::kAvx2, objs_cmp_avx2); }
// Through the boot-time dispatch (one load and an indirect call more).
BENCH_N(rt, objs_cmp_dispatched, kIters) { bench_cmp(run, ObjsImpl::kScalar, objs_cmp); }

}  // namespace
}  // namespace rt
