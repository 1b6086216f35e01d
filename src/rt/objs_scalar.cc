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

}  // namespace rt
