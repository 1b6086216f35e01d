// The scalar reference implementation of the Objs operations: what the
// vector ones are tested against, and the fallback before boot selects one.
// Any context (no vector registers).
#pragma once

#include "src/rt/objs.h"

namespace rt {

/// objs_add, one counter at a time (wrapping).
void objs_add_scalar(Objs& dst, const Objs& src);
/// objs_sub, one counter at a time (wrapping).
void objs_sub_scalar(Objs& dst, const Objs& src);
/// objs_cmp, one counter at a time (unsigned).
ObjsMask objs_cmp_scalar(const Objs& a, const Objs& b);

/// objs_take, one counter at a time.
bool objs_take_scalar(Objs& avail, const Objs& want, ObjsAccount& acct);
/// objs_give, one counter at a time.
ObjsGive objs_give_scalar(Objs& avail, const ObjsAccount& acct, const Objs& keep, const Objs& site_peak);

}  // namespace rt
