// The 64-bit task-state segment ([sdm3] 7.7): in long mode it holds only
// stack pointers — RSP0 for privilege changes and the interrupt stack table
// (IST) that gives NMI, double fault, machine check and page fault their
// own known-good stacks, so a kernel stack overflow can still be reported.
#pragma once

#include "src/base/types.h"

namespace arch {

struct [[gnu::packed]] Tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];  // ist[k - 1] is IST slot k
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;  // >= the limit: no I/O permission bitmap
};
static_assert(sizeof(Tss) == 104, "[sdm3] figure 7-11: the 64-bit TSS is 104 bytes");

/// IST slots (1..7; 0 in a gate means "no stack switch").
enum IstSlot : uint8_t { kIstNmi = 1, kIstDoubleFault = 2, kIstMachineCheck = 3, kIstPageFault = 4 };
inline constexpr unsigned kIstStacks = 4;

/// The TSS limit is its size minus one, exactly: the I/O-bitmap offset set
/// to sizeof(Tss) then lies beyond the limit, which means no bitmap.
inline constexpr uint32_t kTssLimit = sizeof(Tss) - 1;

}  // namespace arch
