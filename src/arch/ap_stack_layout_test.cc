// The APs' stack region: every address of a region classified as exactly
// one stack or its guard, with the CPU (or ticket) it belongs to, and
// nothing outside the region.
#include "src/arch/ap_stack_layout.h"

#include <gtest/gtest.h>

#include <string>

namespace arch {
namespace {

constexpr uint64_t kRegion = 0xffff'c000'0010'0000;

TEST(ApStackLayout, SlotsAreWholePagesWithAGuardBelowEachStack) {
  EXPECT_EQ(kApStackSlotBytes % kStackGuardSize, 0u);
  EXPECT_EQ(ap_stack_region_bytes(3), 3 * kApStackSlotBytes);
  // Six stacks, six guard pages: only the stacks take memory.
  EXPECT_EQ(ap_stack_slot_mapped_bytes(), kApLandingStackSize + kKernelStackSize + 4 * kIstStackSize);
  EXPECT_EQ(kApStackSlotBytes, ap_stack_slot_mapped_bytes() + kApStackPieceCount * kStackGuardSize);
  EXPECT_STREQ(kApStackPieces[kApKernelPiece].what, "kernel stack");
  EXPECT_STREQ(kApStackPieces[kApFirstIstPiece].what, "NMI stack");
  EXPECT_STREQ(kApStackPieces[kApFirstIstPiece + 3].what, "page-fault stack");
}

TEST(ApStackLayout, EveryPageOfTheRegionIsOneStackOrItsGuard) {
  constexpr uint32_t kAps = 4;
  uint32_t guards = 0, stack_pages = 0;
  for (uint64_t a = kRegion; a < kRegion + ap_stack_region_bytes(kAps); a += kStackGuardSize) {
    StackInfo info;
    ASSERT_TRUE(classify_ap_stack(kRegion, kAps, a, &info)) << std::hex << a;
    const uint32_t slot = static_cast<uint32_t>((a - kRegion) / kApStackSlotBytes);
    if (std::string(info.what) == "AP landing stack") {
      EXPECT_EQ(info.cpu, slot) << "a landing stack is its ticket's";
    } else {
      EXPECT_EQ(info.cpu, slot + 1) << "slot 0 is CPU 1's";
    }
    EXPECT_EQ(info.hi - info.lo, info.what == std::string("kernel stack")       ? kKernelStackSize
                                 : info.what == std::string("AP landing stack") ? kApLandingStackSize
                                                                                : kIstStackSize);
    if (info.in_guard) {
      ++guards;
      EXPECT_EQ(a, info.lo - kStackGuardSize) << "the guard is the page right below the stack";
    } else {
      ++stack_pages;
      EXPECT_TRUE(a >= info.lo && a < info.hi);
    }
  }
  EXPECT_EQ(guards, kAps * kApStackPieceCount);
  EXPECT_EQ(stack_pages * kStackGuardSize, kAps * ap_stack_slot_mapped_bytes());
}

TEST(ApStackLayout, PiecesAreWhereApStackLoSaysAndTheirEdgesClassify) {
  constexpr uint32_t kAps = 2;
  for (uint32_t slot = 0; slot < kAps; ++slot) {
    for (size_t k = 0; k < kApStackPieceCount; ++k) {
      const uint64_t lo = ap_stack_lo(kRegion, slot, k);
      const uint64_t hi = lo + kApStackPieces[k].bytes;
      StackInfo top, bottom, guard;
      ASSERT_TRUE(classify_ap_stack(kRegion, kAps, hi - 8, &top));
      ASSERT_TRUE(classify_ap_stack(kRegion, kAps, lo, &bottom));
      ASSERT_TRUE(classify_ap_stack(kRegion, kAps, lo - 1, &guard));
      EXPECT_STREQ(top.what, kApStackPieces[k].what);
      EXPECT_EQ(top.lo, lo);
      EXPECT_EQ(top.hi, hi);
      EXPECT_FALSE(top.in_guard);
      EXPECT_FALSE(bottom.in_guard);
      EXPECT_TRUE(guard.in_guard);
      EXPECT_STREQ(guard.what, kApStackPieces[k].what) << "a guard is named after the stack it guards";
    }
  }
}

TEST(ApStackLayout, NothingOutsideTheRegionAndNothingWithoutSlots) {
  StackInfo info;
  EXPECT_FALSE(classify_ap_stack(kRegion, 2, kRegion - 1, &info));
  EXPECT_FALSE(classify_ap_stack(kRegion, 2, kRegion + ap_stack_region_bytes(2), &info));
  EXPECT_TRUE(classify_ap_stack(kRegion, 2, kRegion + ap_stack_region_bytes(2) - 1, &info));
  EXPECT_FALSE(classify_ap_stack(kRegion, 0, kRegion, &info)) << "before the region is set";
  EXPECT_FALSE(classify_ap_stack(0, 0, 0, &info));
  // An address far above wraps no subtraction into the region.
  EXPECT_FALSE(classify_ap_stack(kRegion, 2, ~uint64_t{0}, &info));
}

}  // namespace
}  // namespace arch
