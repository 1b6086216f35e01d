// In-kernel tests of the Objs operations: the chosen implementation and
// every available one against the scalar reference, inside SimdRegions, on
// every CPU (AVX state is enabled per CPU: an AP that missed it faults here).
#include "src/arch/console.h"
#include "src/arch/x86.h"
#include "src/ktest/ktest.h"
#include "src/ktest/pin_to.h"
#include "src/rt/objs.h"
#include "src/rt/objs_avx2.h"
#include "src/rt/objs_scalar.h"
#include "src/rt/objs_sse2.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"
#include "src/sched/simd.h"

namespace rt {
namespace {

struct Ops {
  void (*add)(Objs&, const Objs&);
  void (*sub)(Objs&, const Objs&);
  ObjsMask (*cmp)(const Objs&, const Objs&);
};

constexpr uint32_t kEdges[] = {0, 1, 2, 0x7fff'fffe, 0x7fff'ffff, 0x8000'0000, 0x8000'0001, 0xffff'fffe, 0xffff'ffff};
constexpr uint32_t kNumEdges = sizeof(kEdges) / sizeof(kEdges[0]);

uint32_t next(uint32_t& x) {  // xorshift32: no allocation, no state shared between CPUs
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

// Inputs for round r: edge values in rotating classes, then random ones.
void make_inputs(uint32_t r, uint32_t& seed, Objs& a, Objs& b) {
  for (unsigned i = 0; i < kObjsClasses; ++i) {
    if (r < kNumEdges * kNumEdges) {
      a[i] = kEdges[(r / kNumEdges + i) % kNumEdges];
      b[i] = kEdges[(r % kNumEdges + 2 * i) % kNumEdges];
    } else {
      a[i] = next(seed);
      b[i] = (next(seed) & 1) ? a[i] + (next(seed) % 3) - 1 : next(seed);
    }
  }
}

// Mismatches of `ops` against the scalar reference over `rounds` inputs,
// run inside one SimdRegion per round (so preemption can fall between).
uint32_t mismatches(const Ops& ops, uint32_t rounds, uint32_t seed) {
  uint32_t bad = 0;
  for (uint32_t r = 0; r < rounds; ++r) {
    Objs a, b;
    make_inputs(r, seed, a, b);
    Objs want_add = a, want_sub = a, got_add = a, got_sub = a;
    objs_add_scalar(want_add, b);
    objs_sub_scalar(want_sub, b);
    const ObjsMask want_cmp = objs_cmp_scalar(a, b);
    ObjsMask got_cmp;
    {
      sched::SimdRegion simd;
      ops.add(got_add, b);
      ops.sub(got_sub, b);
      got_cmp = ops.cmp(a, b);
    }
    bad += (want_add != got_add) + (want_sub != got_sub) + (want_cmp != got_cmp);
  }
  return bad;
}

// Runs mismatches() pinned to each CPU that schedules, recording a failure
// per CPU with mismatches (a macro: KEXPECT needs the test's context).
#define CHECK_ON_EVERY_CPU(ops)                                     \
  do {                                                              \
    uint32_t checked = 0;                                           \
    for (uint32_t cpu = 0; cpu < sched::sched_cpus(); ++cpu) {      \
      if (!sched::cpu_takes_threads(arch::CpuIndex(cpu))) continue; \
      ktest::PinTo pin(arch::CpuIndex{cpu});                        \
      KEXPECT_EQ(arch::this_cpu().index.value, cpu);                \
      KEXPECT_EQ(mismatches(ops, 2000, 0x9e37'79b9u ^ cpu), 0u);    \
      ++checked;                                                    \
    }                                                               \
    KEXPECT_GE(checked, 1u);                                        \
  } while (0)

KTEST(rt, objs_chosen_impl_matches_scalar_on_every_cpu) {
  arch::kprint("rt: Objs operations use {}\n", objs_impl_name(objs_impl()));
  KEXPECT_TRUE(objs_impl() != ObjsImpl::kScalar);  // every x86-64 CPU has SSE2
  const Ops dispatched{objs_add, objs_sub, objs_cmp};
  CHECK_ON_EVERY_CPU(dispatched);
}

KTEST(rt, objs_sse2_matches_scalar_on_every_cpu) {
  if (!objs_impl_available(ObjsImpl::kSse2)) KTEST_SKIP("no SSE2 on this CPU");
  CHECK_ON_EVERY_CPU((Ops{objs_add_sse2, objs_sub_sse2, objs_cmp_sse2}));
}

KTEST(rt, objs_avx2_matches_scalar_on_every_cpu) {
  if (!objs_impl_available(ObjsImpl::kAvx2)) KTEST_SKIP("no usable AVX2 on this CPU (CPUID.7.0:EBX[5], XSAVE, XCR0)");
  // Each CPU enabled AVX state itself (kmain's enable_simd_this_cpu).
  for (uint32_t cpu = 0; cpu < sched::sched_cpus(); ++cpu) {
    if (!sched::cpu_takes_threads(arch::CpuIndex(cpu))) continue;
    ktest::PinTo pin(arch::CpuIndex{cpu});
    KEXPECT_EQ(arch::enabled_xcr0() & 7, 7u);
  }
  CHECK_ON_EVERY_CPU((Ops{objs_add_avx2, objs_sub_avx2, objs_cmp_avx2}));
}

KTEST(rt, objs_cmp_is_unsigned_past_2_to_31) {
  Objs a{}, b{};
  a[0] = 0x8000'0000;  // 2^31 > 2^31 - 1
  b[0] = 0x7fff'ffff;
  a[7] = 0xffff'ffff;  // 2^32 - 1 > 2^31
  b[7] = 0x8000'0000;
  a[15] = 0x7fff'ffff;  // 2^31 - 1 > 2^31: no
  b[15] = 0x8000'0000;
  a[23] = 1;  // 1 > 2^32 - 1: no
  b[23] = 0xffff'ffff;
  ObjsMask ab, ba;
  {
    sched::SimdRegion simd;
    ab = objs_cmp(a, b);
    ba = objs_cmp(b, a);
  }
  KEXPECT_EQ(ab, (1u << 0) | (1u << 7));
  KEXPECT_EQ(ba, (1u << 15) | (1u << 23));
}

}  // namespace
}  // namespace rt
