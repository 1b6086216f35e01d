// Which Objs implementation a CPU can run, decided from its CPUID features
// and the XCR0 the kernel enabled. Pure, so host tests feed real dumps.
// Any context.
#pragma once

#include "src/arch/cpu_features.h"
#include "src/rt/objs.h"

namespace rt {

/// The best implementation for a CPU with features `f` on which XCR0 is
/// `enabled_xcr0` (0 while CR4.OSXSAVE is clear): AVX2 only with CPUID
/// AVX2 (leaf 7 EBX bit 5), AVX state supported and enabled (XCR0 SSE|AVX,
/// [sdm1] 14.3: else AVX instructions raise #UD); SSE2 on every x86-64
/// CPU; scalar otherwise.
ObjsImpl choose_objs_impl(const arch::CpuFeatures& f, uint64_t enabled_xcr0);

}  // namespace rt
