// Architectural register bits (CR0, CR4, RFLAGS) and the MSRs the boot path
// programs (IA32_EFER), defined once: constants only, so that host programs
// and tests can read them, and gen_asm_offsets prints the ones assembly
// uses into asm_offsets.h. An MSR that belongs to one concept is defined
// once beside it instead (IA32_APIC_BASE and IA32_TSC_DEADLINE in lapic.h,
// IA32_GS_BASE in percpu.h, the PMU's in src/prof/pmc.h).
#pragma once

#include "src/base/types.h"

namespace arch {

// CR0 [sdm3] 2.5.
inline constexpr uint64_t kCr0Pe = uint64_t{1} << 0;   // protection enable
inline constexpr uint64_t kCr0Mp = uint64_t{1} << 1;   // monitor coprocessor
inline constexpr uint64_t kCr0Em = uint64_t{1} << 2;   // x87 emulation (trap)
inline constexpr uint64_t kCr0Wp = uint64_t{1} << 16;  // supervisor writes honour read-only pages
inline constexpr uint64_t kCr0Pg = uint64_t{1} << 31;  // paging

// CR4 [sdm3] 2.5.
inline constexpr uint64_t kCr4Pae = uint64_t{1} << 5;          // physical address extension (long mode needs it)
inline constexpr uint64_t kCr4Pge = uint64_t{1} << 7;          // global pages
inline constexpr uint64_t kCr4Osfxsr = uint64_t{1} << 9;       // FXSAVE/FXRSTOR, SSE enabled
inline constexpr uint64_t kCr4Osxmmexcpt = uint64_t{1} << 10;  // SIMD exceptions raise #XM
inline constexpr uint64_t kCr4Osxsave = uint64_t{1} << 18;     // XSAVE and XCR0 enabled

/// RFLAGS.IF, the interrupt-enable flag ([sdm1] 3.4.3.3).
inline constexpr uint64_t kRflagsIf = uint64_t{1} << 9;

/// IA32_EFER, the extended feature enable register ([sdm3] 2.2.1).
inline constexpr uint32_t kIa32Efer = 0xc000'0080;
inline constexpr uint64_t kEferLme = uint64_t{1} << 8;   // IA-32e mode enable
inline constexpr uint64_t kEferLma = uint64_t{1} << 10;  // IA-32e mode active (read-only)
inline constexpr uint64_t kEferNxe = uint64_t{1} << 11;  // execute-disable bit in page tables

}  // namespace arch
