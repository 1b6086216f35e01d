// The dispatch of the Objs operations: a table of three function pointers,
// set once at boot, so a call costs one load and one indirect call.
#include "src/rt/objs.h"

#include "src/rt/objs_avx2.h"
#include "src/rt/objs_scalar.h"
#include "src/rt/objs_sse2.h"

namespace rt {
namespace {

constexpr internal::ObjsOps kScalarOps{objs_add_scalar, objs_sub_scalar, objs_cmp_scalar, objs_take_scalar,
                                       objs_give_scalar};
constexpr internal::ObjsOps kSse2Ops{objs_add_sse2, objs_sub_sse2, objs_cmp_sse2, objs_take_sse2, objs_give_sse2};
constexpr internal::ObjsOps kAvx2Ops{objs_add_avx2, objs_sub_avx2, objs_cmp_avx2, objs_take_avx2, objs_give_avx2};

constinit ObjsImpl selected = ObjsImpl::kScalar;

}  // namespace

namespace internal {
constinit ObjsOps objs_ops = kScalarOps;
}  // namespace internal

const char* objs_impl_name(ObjsImpl impl) {
  switch (impl) {
    case ObjsImpl::kScalar:
      return "scalar";
    case ObjsImpl::kSse2:
      return "sse2";
    case ObjsImpl::kAvx2:
      return "avx2";
  }
  return "?";
}

void objs_init(ObjsImpl impl) {
  selected = impl;
  switch (impl) {
    case ObjsImpl::kScalar:
      internal::objs_ops = kScalarOps;
      break;
    case ObjsImpl::kSse2:
      internal::objs_ops = kSse2Ops;
      break;
    case ObjsImpl::kAvx2:
      internal::objs_ops = kAvx2Ops;
      break;
  }
}

ObjsImpl objs_impl() { return selected; }

bool objs_impl_available(ObjsImpl impl) { return impl <= selected; }

}  // namespace rt
