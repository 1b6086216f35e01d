// SSE2 Objs operations on clang vector types, six 4-counter rows, with an
// unsigned compare built from the signed PCMPGTD.
#include "src/rt/objs_sse2.h"

#include "src/sched/simd_function.h"

namespace rt {
namespace {

using U4 = uint32_t __attribute__((vector_size(16)));
using I4 = int32_t __attribute__((vector_size(16)));
using F4 = float __attribute__((vector_size(16)));
constexpr unsigned kLanes = 4;

// Loads and stores through memcpy: aligned vector moves (Objs is 32-byte
// aligned) without type-punning the array.
[[gnu::always_inline, gnu::target("sse2")]] inline U4 load(const uint32_t* p) {
  U4 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
[[gnu::always_inline, gnu::target("sse2")]] inline void store(uint32_t* p, U4 v) { __builtin_memcpy(p, &v, sizeof(v)); }

}  // namespace

SIMD_FUNCTION void objs_add_sse2(Objs& dst, const Objs& src) {
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) store(&dst.n[i], load(&dst.n[i]) + load(&src.n[i]));
}

SIMD_FUNCTION void objs_sub_sse2(Objs& dst, const Objs& src) {
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) store(&dst.n[i], load(&dst.n[i]) - load(&src.n[i]));
}

// SSE2 has only a signed compare (PCMPGTD); biasing both sides by 2^31 maps
// unsigned order onto signed order (x ^ 0x8000'0000 flips the sign bit),
// which is what makes the compare right past 2^31 where Biscuit's was not.
SIMD_FUNCTION ObjsMask objs_cmp_sse2(const Objs& a, const Objs& b) {
  const U4 bias = {0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u};
  ObjsMask m = 0;
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) {
    I4 gt = reinterpret_cast<I4>(load(&a.n[i]) ^ bias) > reinterpret_cast<I4>(load(&b.n[i]) ^ bias);
    // MOVMSKPS gathers the four lanes' sign bits: all-ones lanes are 1.
    m |= static_cast<ObjsMask>(__builtin_ia32_movmskps(reinterpret_cast<F4>(gt))) << i;
  }
  return m;
}

// Both fused operations: all rows compared before anything is written (a
// take either happens whole or not at all), in registers.
SIMD_FUNCTION bool objs_take_sse2(Objs& avail, const Objs& want, ObjsAccount& acct) {
  const U4 bias = {0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u};
  const U4 zero = {};
  U4 w[kObjsClasses / kLanes], a[kObjsClasses / kLanes];
  I4 over = {};
  for (unsigned r = 0; r < kObjsClasses / kLanes; ++r) {
    w[r] = load(&want.n[r * kLanes]);
    a[r] = load(&avail.n[r * kLanes]);
    over |= reinterpret_cast<I4>(w[r] ^ bias) > reinterpret_cast<I4>(a[r] ^ bias);
  }
  if (__builtin_ia32_movmskps(reinterpret_cast<F4>(over)) != 0) return false;
  for (unsigned r = 0; r < kObjsClasses / kLanes; ++r) {
    store(&avail.n[r * kLanes], a[r] - w[r]);
    store(&acct.limit.n[r * kLanes], w[r]);
    store(&acct.used.n[r * kLanes], zero);
    store(&acct.peak.n[r * kLanes], zero);
  }
  return true;
}

SIMD_FUNCTION ObjsGive objs_give_sse2(Objs& avail, const ObjsAccount& acct, const Objs& keep, const Objs& site_peak) {
  const U4 bias = {0x8000'0000u, 0x8000'0000u, 0x8000'0000u, 0x8000'0000u};
  ObjsGive g{0, 0};
  for (unsigned i = 0; i < kObjsClasses; i += kLanes) {
    const U4 a = load(&avail.n[i]) + (load(&acct.limit.n[i]) - load(&acct.used.n[i]));
    store(&avail.n[i], a);
    I4 over = reinterpret_cast<I4>(a ^ bias) > reinterpret_cast<I4>(load(&keep.n[i]) ^ bias);
    I4 peak = reinterpret_cast<I4>(load(&acct.peak.n[i]) ^ bias) > reinterpret_cast<I4>(load(&site_peak.n[i]) ^ bias);
    g.over_keep |= static_cast<ObjsMask>(__builtin_ia32_movmskps(reinterpret_cast<F4>(over))) << i;
    g.new_peak |= static_cast<ObjsMask>(__builtin_ia32_movmskps(reinterpret_cast<F4>(peak))) << i;
  }
  return g;
}

}  // namespace rt
