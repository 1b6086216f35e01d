// See boot_paging.h.
#include "src/arch/boot_paging.h"

#include "src/base/assert.h"

extern "C" uint64_t boot_page_tables[];

namespace arch {

void boot_map_uncached(uint64_t phys) {
  ASSERT_MSG(phys < (uint64_t{4} << 30), "boot identity map covers only 4 GiB, not {:#x}", phys);
  // Layout from boot_entry.S: PML4, low PDPT, high PDPT, then four PDs.
  uint64_t* pd = boot_page_tables + 3 * 512;
  constexpr uint64_t kPwt = 1 << 3, kPcd = 1 << 4;
  pd[phys >> 21] |= kPcd | kPwt;
  asm volatile("invlpg (%0)" ::"r"(phys) : "memory");
}

}  // namespace arch
