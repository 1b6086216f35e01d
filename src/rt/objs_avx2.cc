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

// Both fused operations: all rows compared before anything is written (a
// take either happens whole or not at all), in registers.
SIMD_AVX2_FUNCTION bool objs_take_avx2(Objs& avail, const Objs& want, ObjsAccount& acct) {
  const U8 bias = {0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u,
                   0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u};
  const U8 zero = {};
  U8 w[kObjsClasses / kLanes], a[kObjsClasses / kLanes];
  I8 over = {};
  for (unsigned r = 0; r < kObjsClasses / kLanes; ++r) {
    w[r] = load(&want.n[r * kLanes]);
    a[r] = load(&avail.n[r * kLanes]);
    over |= reinterpret_cast<I8>(w[r] ^ bias) > reinterpret_cast<I8>(a[r] ^ bias);
  }
  if (__builtin_ia32_movmskps256(reinterpret_cast<F8>(over)) != 0) return false;
  for (unsigned r = 0; r < kObjsClasses / kLanes; ++r) {
    store(&avail.n[r * kLanes], a[r] - w[r]);
    store(&acct.limit.n[r * kLanes], w[r]);
    store(&acct.used.n[r * kLanes], zero);
    store(&acct.peak.n[r * kLanes], zero);
  }
  return true;
}

SIMD_AVX2_FUNCTION ObjsGive objs_give_avx2(Objs& avail, const ObjsAccount& acct, const Objs& keep,
                                           const Objs& site_peak) {
  const U8 bias = {0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u,
                   0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u};
  ObjsGive g{0, 0};
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) {
    const U8 a = load(&avail.n[i]) + (load(&acct.limit.n[i]) - load(&acct.used.n[i]));
    store(&avail.n[i], a);
    I8 over = reinterpret_cast<I8>(a ^ bias) > reinterpret_cast<I8>(load(&keep.n[i]) ^ bias);
    I8 peak = reinterpret_cast<I8>(load(&acct.peak.n[i]) ^ bias) > reinterpret_cast<I8>(load(&site_peak.n[i]) ^ bias);
    g.over_keep |= static_cast<ObjsMask>(__builtin_ia32_movmskps256(reinterpret_cast<F8>(over))) << i;
    g.new_peak |= static_cast<ObjsMask>(__builtin_ia32_movmskps256(reinterpret_cast<F8>(peak))) << i;
  }
  return g;
}

}  // namespace rt
