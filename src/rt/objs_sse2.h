// The SSE2 implementation of the Objs operations: four counters per
// instruction. SIMD_FUNCTIONs: thread context, inside a sched::SimdRegion.
#pragma once

#include "src/rt/objs.h"

namespace rt {

/// objs_add with PADDD (wrapping).
void objs_add_sse2(Objs& dst, const Objs& src);
/// objs_sub with PSUBD (wrapping).
void objs_sub_sse2(Objs& dst, const Objs& src);
/// objs_cmp with a biased PCMPGTD and MOVMSKPS (unsigned).
ObjsMask objs_cmp_sse2(const Objs& a, const Objs& b);

/// objs_take, four counters per instruction.
bool objs_take_sse2(Objs& avail, const Objs& want, ObjsAccount& acct);
/// objs_give, four counters per instruction.
ObjsGive objs_give_sse2(Objs& avail, const ObjsAccount& acct, const Objs& keep, const Objs& site_peak);

}  // namespace rt
