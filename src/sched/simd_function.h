// The attributes that mark a function as vector code under the SIMD policy
// (src/sched/simd.h). Apart from simd.h so that host-built libraries (rt's
// Objs operations) can mark their functions the same way; depends on nothing.
#pragma once

/// A function that may use SSE2 (call it only inside a SimdRegion). Kept
/// out of line so its vector code cannot be inlined into a caller outside
/// .text.simd, the only place test/check_no_stray_simd.sh allows it.
#define SIMD_FUNCTION [[gnu::section(".text.simd"), gnu::target("sse2"), gnu::noinline]]

/// A function that may use AVX2 (and the SSE levels below it), likewise in
/// .text.simd. Call it only inside a SimdRegion and only on a CPU with AVX2
/// whose AVX state the kernel enabled (CR4.OSXSAVE, XCR0; see
/// enable_simd_this_cpu in src/kernel/kmain.cc), else it raises #UD.
#define SIMD_AVX2_FUNCTION [[gnu::section(".text.simd"), gnu::target("avx2"), gnu::noinline]]
