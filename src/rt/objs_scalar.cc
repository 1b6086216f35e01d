// The scalar reference: plain loops, obviously right (uint32_t arithmetic
// wraps and compares unsigned by definition).
#include "src/rt/objs_scalar.h"

namespace rt {

void objs_add_scalar(Objs& dst, const Objs& src) {
  for (unsigned i = 0; i < kObjsClasses; ++i) dst[i] += src[i];
}

void objs_sub_scalar(Objs& dst, const Objs& src) {
  for (unsigned i = 0; i < kObjsClasses; ++i) dst[i] -= src[i];
}

ObjsMask objs_cmp_scalar(const Objs& a, const Objs& b) {
  ObjsMask m = 0;
  for (unsigned i = 0; i < kObjsClasses; ++i) m |= ObjsMask{a[i] > b[i]} << i;
  return m;
}

bool objs_take_scalar(Objs& avail, const Objs& want, ObjsAccount& acct) {
  if (objs_cmp_scalar(want, avail) != 0) return false;
  for (unsigned i = 0; i < kObjsClasses; ++i) {
    avail[i] -= want[i];
    acct.limit[i] = want[i];
    acct.used[i] = 0;
    acct.peak[i] = 0;
  }
  return true;
}

ObjsGive objs_give_scalar(Objs& avail, const ObjsAccount& acct, const Objs& keep, const Objs& site_peak) {
  for (unsigned i = 0; i < kObjsClasses; ++i) avail[i] += acct.limit[i] - acct.used[i];
  return ObjsGive{objs_cmp_scalar(avail, keep), objs_cmp_scalar(acct.peak, site_peak)};
}

}  // namespace rt
