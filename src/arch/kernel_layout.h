// Fixed addresses of the kernel image and of arch's boot code, defined once
// here: gen_asm_offsets prints them into asm_offsets.h for boot_entry.S and
// ap_trampoline.S, and kernel.ld reads the link address from boot_entry.S
// (the absolute symbol boot_kernel_vma).
#pragma once

#include "src/base/types.h"

namespace arch {

/// Where everything but the .boot sections is linked: the top 2 GiB of the
/// address space, which is what -mcmodel=kernel code can address with
/// sign-extended 32-bit displacements. The boot page tables map it to
/// physical 0..2 GiB through PML4 entry 511, PDPT entries 510 and 511
/// (boot_entry.S), so physical = virtual - kKernelVma for the image.
inline constexpr uint64_t kKernelVma = 0xffff'ffff'8000'0000;
static_assert(kKernelVma == ~uint64_t{0} - (uint64_t{2} << 30) + 1, "-mcmodel=kernel: the top 2 GiB");
static_assert(((kKernelVma >> 39) & 511) == 511 && ((kKernelVma >> 30) & 511) == 510,
              "boot_entry.S maps the kernel window at PML4[511], PDPT[510..511]");

/// Physical page the AP trampoline is copied to and started from: below
/// 1 MiB and page-aligned, since the SIPI vector is its page number
/// ([sdm3] 8.4.4.1); 0x8000 gives vector 0x08.
inline constexpr uint64_t kApTrampolinePhys = 0x8000;
static_assert(kApTrampolinePhys % 4096 == 0 && kApTrampolinePhys < (uint64_t{1} << 20));

}  // namespace arch
