// AVX2 Objs operations on clang vector types, three 8-counter rows. The
// compiler ends each function with VZEROUPPER, so no dirty upper state
// lingers to slow later SSE code.
#include "src/rt/objs_avx2.h"

#include "src/sched/simd_function.h"

namespace rt {
namespace {

using U8 = uint32_t __attribute__((vector_size(32)));
using I8 = int32_t __attribute__((vector_size(32)));
using F8 = float __attribute__((vector_size(32)));
constexpr unsigned kLanes = 8;

[[gnu::always_inline, gnu::target("avx2")]] inline U8 load(const uint32_t* p) {
  U8 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
[[gnu::always_inline, gnu::target("avx2")]] inline void store(uint32_t* p, U8 v) { __builtin_memcpy(p, &v, sizeof(v)); }

}  // namespace

SIMD_AVX2_FUNCTION void objs_add_avx2(Objs& dst, const Objs& src) {
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) store(&dst.n[i], load(&dst.n[i]) + load(&src.n[i]));
}

SIMD_AVX2_FUNCTION void objs_sub_avx2(Objs& dst, const Objs& src) {
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) store(&dst.n[i], load(&dst.n[i]) - load(&src.n[i]));
}

// Written with the same 2^31 bias as the SSE2 compare (AVX2 has no unsigned
// VPCMPGTD either); clang sees an unsigned compare in it and emits the
// min/equality form instead (a > b exactly when min(a, b) != a: VPMINUD,
// VPCMPEQD, then the mask inverted), one instruction shorter.
SIMD_AVX2_FUNCTION ObjsMask objs_cmp_avx2(const Objs& a, const Objs& b) {
  const U8 bias = {0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u,
                   0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u};
  ObjsMask m = 0;
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) {
    I8 gt = reinterpret_cast<I8>(load(&a.n[i]) ^ bias) > reinterpret_cast<I8>(load(&b.n[i]) ^ bias);
    m |= static_cast<ObjsMask>(__builtin_ia32_movmskps256(reinterpret_cast<F8>(gt))) << i;
  }
  return m;
}

}  // namespace rt
