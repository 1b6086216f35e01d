// The selection rule of objs_select.h.
#include "src/rt/objs_select.h"

namespace rt {

ObjsImpl choose_objs_impl(const arch::CpuFeatures& f, uint64_t enabled_xcr0) {
  constexpr uint64_t kAvxState = arch::kXcr0Sse | arch::kXcr0Avx;
  if (f.avx2 && arch::avx_state_supported(f) && (enabled_xcr0 & kAvxState) == kAvxState) return ObjsImpl::kAvx2;
  if (f.sse2) return ObjsImpl::kSse2;
  return ObjsImpl::kScalar;
}

}  // namespace rt
