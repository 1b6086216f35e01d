// Where the application processors' stacks lie in the one region of kernel
// address space the kernel maps for them once it knows how many there are
// (stacks.h): per AP a slot of stacks, each stack above an unmapped guard
// page. Pure address arithmetic, host-tested, NMI-safe.
#pragma once

#include "src/base/types.h"

namespace arch {

inline constexpr size_t kKernelStackSize = 16 * 1024;
inline constexpr size_t kIstStackSize = 8 * 1024;
/// Where an AP lands from the trampoline (by arrival ticket) before it
/// knows its index and moves to its own kernel stack.
inline constexpr size_t kApLandingStackSize = 4 * 1024;
inline constexpr size_t kStackGuardSize = 4096;

/// What a stack address is: which stack, its usable bounds, and whether
/// the address lies in its guard page.
struct StackInfo {
  const char* what = nullptr;  // "boot stack", "kernel stack", "NMI stack", ...
  uint32_t cpu = 0;            // for an "AP landing stack", the arrival ticket
  uint64_t lo = 0, hi = 0;
  bool in_guard = false;
};

/// One stack of an AP's slot: `bytes` at `offset` from the slot's start,
/// with the guard page right below it.
struct ApStackPiece {
  uint64_t offset, bytes;
  const char* what;
};

/// An AP slot, in address order: guard, landing stack, guard, kernel stack,
/// then per IST slot 1..4 ([sdm3] 7.14.5) a guard and its stack. The names
/// of the IST stacks follow tss.h's IstSlot order (stacks.cc checks).
inline constexpr ApStackPiece kApStackPieces[] = {
    {1 * kStackGuardSize, kApLandingStackSize, "AP landing stack"},
    {3 * kStackGuardSize, kKernelStackSize, "kernel stack"},
    {8 * kStackGuardSize, kIstStackSize, "NMI stack"},
    {11 * kStackGuardSize, kIstStackSize, "double-fault stack"},
    {14 * kStackGuardSize, kIstStackSize, "machine-check stack"},
    {17 * kStackGuardSize, kIstStackSize, "page-fault stack"},
};
inline constexpr size_t kApStackPieceCount = sizeof(kApStackPieces) / sizeof(kApStackPieces[0]);
inline constexpr size_t kApLandingPiece = 0, kApKernelPiece = 1, kApFirstIstPiece = 2;
inline constexpr uint64_t kApStackSlotBytes = 19 * kStackGuardSize;

/// The pieces abut, each above its own guard page, and fill the slot.
constexpr bool ap_stack_pieces_consistent() {
  uint64_t at = 0;
  for (const ApStackPiece& p : kApStackPieces) {
    if (p.offset != at + kStackGuardSize || p.bytes % kStackGuardSize != 0) return false;
    at = p.offset + p.bytes;
  }
  return at == kApStackSlotBytes;
}
static_assert(ap_stack_pieces_consistent());

/// The bytes of a slot that are mapped (all but its guard pages).
constexpr uint64_t ap_stack_slot_mapped_bytes() {
  uint64_t n = 0;
  for (const ApStackPiece& p : kApStackPieces) n += p.bytes;
  return n;
}

/// The region's size for `aps` application processors.
constexpr uint64_t ap_stack_region_bytes(uint32_t aps) { return uint64_t{aps} * kApStackSlotBytes; }

/// Slot `slot` (AP index slot + 1; landing stack of ticket `slot`), piece
/// `piece`: its lowest usable address in the region at `region`.
constexpr uint64_t ap_stack_lo(uint64_t region, uint32_t slot, size_t piece) {
  return region + slot * kApStackSlotBytes + kApStackPieces[piece].offset;
}

/// Classifies `addr` in the region at `region` of `aps` slots: false if it
/// lies outside it.
constexpr bool classify_ap_stack(uint64_t region, uint32_t aps, uint64_t addr, StackInfo* info) {
  if (addr < region || addr - region >= ap_stack_region_bytes(aps)) return false;
  const uint32_t slot = static_cast<uint32_t>((addr - region) / kApStackSlotBytes);
  const uint64_t in_slot = (addr - region) % kApStackSlotBytes;
  for (size_t k = 0; k < kApStackPieceCount; ++k) {
    const ApStackPiece& p = kApStackPieces[k];
    if (in_slot >= p.offset + p.bytes) continue;
    const uint64_t lo = region + slot * kApStackSlotBytes + p.offset;
    // The landing stack is the ticket's; every other stack is CPU slot+1's.
    *info = StackInfo{p.what, k == kApLandingPiece ? slot : slot + 1, lo, lo + p.bytes, in_slot < p.offset};
    return true;
  }
  return false;  // unreachable: the pieces fill the slot
}

}  // namespace arch
