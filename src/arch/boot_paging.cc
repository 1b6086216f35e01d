// See boot_paging.h.
#include "src/arch/boot_paging.h"

#include "src/arch/kernel_layout.h"
#include "src/base/assert.h"

extern "C" uint64_t boot_page_tables[];

namespace arch {
namespace {

constexpr uint64_t kPresent = 1 << 0, kWritable = 1 << 1, kLargePage = 1 << 7;
constexpr uint64_t kAddrMask = 0x000f'ffff'ffff'f000;

// 4 KiB page tables for split 2 MiB pages: 16 cover 32 MiB of stacks, more
// than MAX_CPUS=256 needs.
constexpr size_t kSplitTables = 16;
alignas(4096) constinit uint64_t split_tables[kSplitTables][512]{};
constinit size_t split_used = 0;

uint64_t* boot_pd() { return boot_page_tables + 3 * 512; }

}  // namespace

void boot_map_uncached(base::PhysAddr phys_addr) {
  const uint64_t phys = phys_addr.value();
  ASSERT_MSG(phys < (uint64_t{4} << 30), "boot identity map covers only 4 GiB, not {:#x}", phys);
  // Layout from boot_entry.S: PML4, low PDPT, high PDPT, then four PDs.
  uint64_t* pd = boot_page_tables + 3 * 512;
  constexpr uint64_t kPwt = 1 << 3, kPcd = 1 << 4;
  pd[phys >> 21] |= kPcd | kPwt;
  asm volatile("invlpg (%0)" ::"r"(phys) : "memory");
}

}  // namespace arch

namespace arch {

void boot_unmap_kernel_page(base::VirtAddr va_addr) {
  const uint64_t va = va_addr.value();
  ASSERT_MSG(va >= kKernelVma && va % 4096 == 0, "boot_unmap_kernel_page({:#x}): not a kernel page", va);
  uint64_t phys = va - kKernelVma;
  uint64_t& pde = boot_pd()[phys >> 21];
  ASSERT_MSG(pde & kPresent, "boot_unmap_kernel_page({:#x}): not mapped", va);
  if (pde & kLargePage) {
    ASSERT_MSG(split_used < kSplitTables, "boot page tables: more than {} 2 MiB pages split", kSplitTables);
    uint64_t* pt = split_tables[split_used++];
    uint64_t base = pde & kAddrMask & ~uint64_t{0x1f'ffff};
    uint64_t flags = pde & 0x1f & ~kLargePage;  // P, RW, US, PWT, PCD carry over
    for (uint64_t i = 0; i < 512; ++i) pt[i] = (base + i * 4096) | flags;
    pde = (reinterpret_cast<uint64_t>(pt) - kKernelVma) | kPresent | kWritable;
  }
  uint64_t* pt = reinterpret_cast<uint64_t*>((pde & kAddrMask) + kKernelVma);
  pt[(phys >> 12) & 511] = 0;
}

void boot_flush_tlb() {
  uint64_t cr3;
  asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

}  // namespace arch
