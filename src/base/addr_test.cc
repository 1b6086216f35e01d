#include "src/base/addr.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace base {
namespace {

// The point of the types: nothing converts implicitly, neither from an
// integer nor between the two address spaces, nor back to an integer.
static_assert(!std::is_convertible_v<uint64_t, PhysAddr>);
static_assert(!std::is_convertible_v<uint64_t, VirtAddr>);
static_assert(!std::is_convertible_v<PhysAddr, VirtAddr>);
static_assert(!std::is_convertible_v<VirtAddr, PhysAddr>);
static_assert(!std::is_constructible_v<PhysAddr, VirtAddr>);
static_assert(!std::is_constructible_v<VirtAddr, PhysAddr>);
static_assert(!std::is_convertible_v<PhysAddr, uint64_t>);
static_assert(!std::is_convertible_v<VirtAddr, uint64_t>);
// Explicit construction from an integer is the way in.
static_assert(std::is_constructible_v<PhysAddr, uint64_t>);
// Still a plain word: passes in a register, copies as one.
static_assert(sizeof(PhysAddr) == 8 && std::is_trivially_copyable_v<PhysAddr>);

// Adding two addresses means nothing and does not compile.
template <typename A, typename B>
concept Addable = requires(A a, B b) {
  a + b;
};
static_assert(!Addable<PhysAddr, PhysAddr>);
static_assert(!Addable<PhysAddr, VirtAddr>);
static_assert(Addable<PhysAddr, uint64_t>);
// Nor does comparing or subtracting across address spaces.
template <typename A, typename B>
concept Comparable = requires(A a, B b) {
  a < b;
};
static_assert(!Comparable<PhysAddr, VirtAddr>);
template <typename A, typename B>
concept Subtractable = requires(A a, B b) {
  a - b;
};
static_assert(!Subtractable<VirtAddr, PhysAddr>);

TEST(Addr, DefaultIsZero) { EXPECT_EQ(PhysAddr().value(), 0u); }

TEST(Addr, ArithmeticWithByteCounts) {
  PhysAddr p(0x1000);
  EXPECT_EQ((p + 0x234).value(), 0x1234u);
  EXPECT_EQ((p - 0x800).value(), 0x800u);
  p += 0x10;
  EXPECT_EQ(p.value(), 0x1010u);
  p -= 0x1010;
  EXPECT_EQ(p.value(), 0u);
  EXPECT_EQ(VirtAddr(0x5000) - VirtAddr(0x2000), 0x3000u);
}

TEST(Addr, Comparison) {
  EXPECT_LT(VirtAddr(1), VirtAddr(2));
  EXPECT_EQ(PhysAddr(7), PhysAddr(7));
  EXPECT_NE(PhysAddr(7), PhysAddr(8));
  EXPECT_GE(PhysAddr(8), PhysAddr(8));
}

TEST(Addr, Alignment) {
  EXPECT_TRUE(PhysAddr(0x2000).page_aligned());
  EXPECT_FALSE(PhysAddr(0x2001).page_aligned());
  EXPECT_TRUE(VirtAddr(0x200000).is_aligned(0x200000));
  EXPECT_FALSE(VirtAddr(0x201000).is_aligned(0x200000));
  EXPECT_EQ(PhysAddr(0x2fff).page_down(), PhysAddr(0x2000));
  EXPECT_EQ(PhysAddr(0x2001).page_up(), PhysAddr(0x3000));
  EXPECT_EQ(PhysAddr(0x3000).page_up(), PhysAddr(0x3000));
  EXPECT_EQ(VirtAddr(0x123456).align_down(0x100000), VirtAddr(0x100000));
  EXPECT_EQ(VirtAddr(0x123456).align_up(0x100000), VirtAddr(0x200000));
  EXPECT_EQ(VirtAddr(0x123456).page_offset(), 0x456u);
}

TEST(Addr, PointerRoundTrip) {
  int x = 0;
  const VirtAddr va = virt_of(&x);
  EXPECT_EQ(as_ptr<int>(va), &x);
  EXPECT_EQ(va.value(), reinterpret_cast<uint64_t>(&x));
}

}  // namespace
}  // namespace base
