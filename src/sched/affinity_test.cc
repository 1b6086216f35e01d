#include "src/sched/affinity.h"

#include <type_traits>

#include "gtest/gtest.h"

namespace sched {
namespace {

using arch::CpuIndex;
using base::MemoryOrder;

// "Anywhere" is no CPU number, and neither a CPU number nor a CPU index
// becomes an affinity without saying which kind.
static_assert(!std::is_convertible_v<uint32_t, Affinity>);
static_assert(!std::is_convertible_v<CpuIndex, Affinity>);
static_assert(!std::is_constructible_v<Affinity, uint32_t>);
static_assert(!std::is_convertible_v<Affinity, uint32_t>);
static_assert(sizeof(AtomicAffinity) == sizeof(uint32_t));

TEST(Affinity, AnyAllowsEveryCpu) {
  constexpr Affinity a = Affinity::any();
  EXPECT_TRUE(a.is_any());
  for (uint32_t cpu : {0u, 1u, 63u, 255u}) EXPECT_TRUE(a.allows(CpuIndex(cpu))) << cpu;
}

TEST(Affinity, OnlyAllowsItsCpu) {
  constexpr Affinity a = Affinity::only(CpuIndex(3));
  EXPECT_FALSE(a.is_any());
  EXPECT_EQ(a.cpu(), CpuIndex(3));
  EXPECT_TRUE(a.allows(CpuIndex(3)));
  EXPECT_FALSE(a.allows(CpuIndex(0)));
  EXPECT_FALSE(a.allows(CpuIndex(4)));
}

TEST(Affinity, EqualityTellsAnyFromEveryCpu) {
  EXPECT_EQ(Affinity::any(), Affinity::any());
  EXPECT_EQ(Affinity::only(CpuIndex(0)), Affinity::only(CpuIndex(0)));
  EXPECT_NE(Affinity::only(CpuIndex(0)), Affinity::only(CpuIndex(1)));
  for (uint32_t cpu = 0; cpu < 256; ++cpu) EXPECT_NE(Affinity::only(CpuIndex(cpu)), Affinity::any()) << cpu;
}

TEST(AtomicAffinity, StartsAnywhere) {
  AtomicAffinity a;
  EXPECT_TRUE(a.load(MemoryOrder::kRelaxed).is_any());
}

TEST(AtomicAffinity, StoreExchangeAndCompareExchange) {
  AtomicAffinity a;
  a.store(Affinity::only(CpuIndex(2)), MemoryOrder::kRelease);
  EXPECT_EQ(a.load(MemoryOrder::kAcquire), Affinity::only(CpuIndex(2)));

  EXPECT_EQ(a.exchange(Affinity::only(CpuIndex(5)), MemoryOrder::kSeqCst), Affinity::only(CpuIndex(2)));

  // cpu_offline's unpinning: succeeds only while bound to that CPU.
  Affinity expected = Affinity::only(CpuIndex(2));
  EXPECT_FALSE(a.compare_exchange(expected, Affinity::any(), MemoryOrder::kAcqRel, MemoryOrder::kRelaxed));
  EXPECT_EQ(expected, Affinity::only(CpuIndex(5)));  // what it found
  EXPECT_TRUE(a.compare_exchange(expected, Affinity::any(), MemoryOrder::kAcqRel, MemoryOrder::kRelaxed));
  EXPECT_TRUE(a.load(MemoryOrder::kRelaxed).is_any());
}

}  // namespace
}  // namespace sched
