// The AVX2 implementation of the Objs operations: eight counters per
// instruction. SIMD_AVX2_FUNCTIONs: thread context, inside a sched::SimdRegion,
// on a CPU with AVX2 and AVX state enabled (objs_impl_available(kAvx2)).
#pragma once

#include "src/rt/objs.h"

namespace rt {

/// objs_add with VPADDD (wrapping).
void objs_add_avx2(Objs& dst, const Objs& src);
/// objs_sub with VPSUBD (wrapping).
void objs_sub_avx2(Objs& dst, const Objs& src);
/// objs_cmp with VPMINUD/VPCMPEQD and VMOVMSKPS (unsigned).
ObjsMask objs_cmp_avx2(const Objs& a, const Objs& b);

/// objs_take, eight counters per instruction.
bool objs_take_avx2(Objs& avail, const Objs& want, ObjsAccount& acct);
/// objs_give, eight counters per instruction.
ObjsGive objs_give_avx2(Objs& avail, const ObjsAccount& acct, const Objs& keep, const Objs& site_peak);

}  // namespace rt
