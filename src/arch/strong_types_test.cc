// The strong types at mm's and arch's interfaces told apart by the
// compiler: a physical or virtual address, an APIC id, a CPU index and an
// interrupt vector are all small integers underneath, and passing one
// where another belongs (or a bare integer where any belongs) must not
// compile. These static_asserts are the proof; the TESTs check the little
// behaviour the types have.
#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>

#include "src/arch/apic_id.h"
#include "src/arch/cpu_index.h"
#include "src/arch/vectors.h"
#include "src/base/addr.h"

namespace arch {
namespace {

// Neither way between any two of them: no conversion, no construction.
template <typename A, typename B>
constexpr bool kApart = !std::is_convertible_v<A, B> && !std::is_convertible_v<B, A> &&
                        !std::is_constructible_v<A, B> && !std::is_constructible_v<B, A>;

static_assert(kApart<CpuIndex, ApicId>);
static_assert(kApart<CpuIndex, Vector>);
static_assert(kApart<ApicId, Vector>);
static_assert(kApart<CpuIndex, base::PhysAddr>);
static_assert(kApart<CpuIndex, base::VirtAddr>);
static_assert(kApart<ApicId, base::PhysAddr>);
static_assert(kApart<Vector, base::PhysAddr>);
static_assert(kApart<Vector, base::VirtAddr>);

// Not implicitly from or to an integer of any width the kernel passes
// them in; explicit construction from one is the way in.
template <typename T>
constexpr bool kNotAnInteger =
    !std::is_convertible_v<uint8_t, T> && !std::is_convertible_v<uint32_t, T> && !std::is_convertible_v<int, T> &&
    !std::is_convertible_v<uint64_t, T> && !std::is_convertible_v<T, uint8_t> && !std::is_convertible_v<T, uint32_t> &&
    !std::is_convertible_v<T, uint64_t> && !std::is_convertible_v<T, bool>;

static_assert(kNotAnInteger<CpuIndex>);
static_assert(kNotAnInteger<ApicId>);
static_assert(kNotAnInteger<Vector>);
static_assert(std::is_constructible_v<CpuIndex, uint32_t>);
static_assert(std::is_constructible_v<Vector, uint8_t>);

// Comparing across types means nothing and does not compile.
template <typename A, typename B>
concept EqualityComparable = requires(A a, B b) {
  a == b;
};
static_assert(EqualityComparable<CpuIndex, CpuIndex>);
static_assert(!EqualityComparable<CpuIndex, ApicId>);
static_assert(!EqualityComparable<CpuIndex, uint32_t>);
static_assert(!EqualityComparable<Vector, uint8_t>);
static_assert(!EqualityComparable<Vector, ApicId>);

// Still plain words: passed in a register, copied as one, so the wrappers
// cost nothing on the paths they sit on (IPIs, per-CPU lookups).
static_assert(sizeof(CpuIndex) == 4 && std::is_trivially_copyable_v<CpuIndex>);
static_assert(sizeof(ApicId) == 4 && std::is_trivially_copyable_v<ApicId>);
static_assert(sizeof(Vector) == 1 && std::is_trivially_copyable_v<Vector>);

TEST(StrongTypes, DefaultsAreZero) {
  EXPECT_EQ(CpuIndex().value, 0u);
  EXPECT_EQ(Vector().value, 0u);
  EXPECT_EQ(ApicId().value, 0u);
}

TEST(StrongTypes, ValueRoundTrip) {
  EXPECT_EQ(CpuIndex(7).value, 7u);
  EXPECT_EQ(CpuIndex(7), CpuIndex(7));
  EXPECT_NE(CpuIndex(7), CpuIndex(8));
  EXPECT_EQ(Vector(0xf0).value, 0xf0u);
  EXPECT_NE(Vector(0xf0), Vector(0xf1));
}

}  // namespace
}  // namespace arch
