// Host tests of the Objs operations: every implementation against the
// scalar reference on edge values and random inputs, the unsigned compare
// at 2^31 - 1, 2^31 and 2^32 - 1, and the dispatch.
#include "src/rt/objs.h"

#include <gtest/gtest.h>

#include <random>

#include "src/rt/objs_avx2.h"
#include "src/rt/objs_scalar.h"
#include "src/rt/objs_sse2.h"

namespace rt {
namespace {

struct Impl {
  const char* name;
  void (*add)(Objs&, const Objs&);
  void (*sub)(Objs&, const Objs&);
  ObjsMask (*cmp)(const Objs&, const Objs&);
  bool (*take)(Objs&, const Objs&, ObjsAccount&);
  ObjsGive (*give)(Objs&, const ObjsAccount&, const Objs&, const Objs&);
  bool (*runs_here)();
};

const Impl kImpls[] = {
    {"scalar", objs_add_scalar, objs_sub_scalar, objs_cmp_scalar, objs_take_scalar, objs_give_scalar,
     [] { return true; }},
    {"sse2", objs_add_sse2, objs_sub_sse2, objs_cmp_sse2, objs_take_sse2, objs_give_sse2,
     [] { return __builtin_cpu_supports("sse2") != 0; }},
    {"avx2", objs_add_avx2, objs_sub_avx2, objs_cmp_avx2, objs_take_avx2, objs_give_avx2,
     [] { return __builtin_cpu_supports("avx2") != 0; }},
};

constexpr uint32_t kEdges[] = {0, 1, 2, 0x7fff'fffe, 0x7fff'ffff, 0x8000'0000, 0x8000'0001, 0xffff'fffe, 0xffff'ffff};
constexpr size_t kNumEdges = sizeof(kEdges) / sizeof(kEdges[0]);

// Compares one implementation's three operations with the scalar ones on
// (a, b), including the aliased calls (dst == src), as callers may make.
void expect_matches_scalar(const Impl& impl, const Objs& a, const Objs& b) {
  Objs want = a, got = a;
  objs_add_scalar(want, b);
  impl.add(got, b);
  EXPECT_EQ(want, got) << impl.name << " add";
  want = a, got = a;
  objs_sub_scalar(want, b);
  impl.sub(got, b);
  EXPECT_EQ(want, got) << impl.name << " sub";
  EXPECT_EQ(objs_cmp_scalar(a, b), impl.cmp(a, b)) << impl.name << " cmp";
  want = a, got = a;
  objs_add_scalar(want, want);
  impl.add(got, got);
  EXPECT_EQ(want, got) << impl.name << " add aliased";
  got = a;
  impl.sub(got, got);
  EXPECT_EQ(Objs{}, got) << impl.name << " sub aliased";
  EXPECT_EQ(impl.cmp(a, a), 0u) << impl.name << " cmp with itself";
}

class ObjsImplTest : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (!GetParam().runs_here()) GTEST_SKIP() << "this host CPU lacks " << GetParam().name;
  }
};

TEST_P(ObjsImplTest, EdgeValuesInEveryClassAgainstScalar) {
  // Every pair of edge values, placed in every class (rotated so each
  // class position sees each pair and neighbours differ).
  for (size_t x = 0; x < kNumEdges; ++x) {
    for (size_t y = 0; y < kNumEdges; ++y) {
      for (unsigned shift = 0; shift < kObjsClasses; ++shift) {
        Objs a{}, b{};
        for (unsigned i = 0; i < kObjsClasses; ++i) {
          a[(i + shift) % kObjsClasses] = kEdges[(x + i) % kNumEdges];
          b[(i + shift) % kObjsClasses] = kEdges[(y + i * 3) % kNumEdges];
        }
        expect_matches_scalar(GetParam(), a, b);
      }
    }
  }
}

TEST_P(ObjsImplTest, RandomInputsAgainstScalar) {
  std::mt19937 rng(12);
  for (int round = 0; round < 20'000; ++round) {
    Objs a{}, b{};
    for (unsigned i = 0; i < kObjsClasses; ++i) {
      // Mostly small counts close to each other (the real case, where
      // equality matters), sometimes anything, sometimes an edge value.
      switch (rng() % 4) {
        case 0:
          a[i] = rng() % 8;
          b[i] = rng() % 8;
          break;
        case 1:
          a[i] = rng();
          b[i] = rng();
          break;
        case 2:
          a[i] = kEdges[rng() % kNumEdges];
          b[i] = kEdges[rng() % kNumEdges];
          break;
        default:
          a[i] = rng();
          b[i] = a[i] + (rng() % 3) - 1;
          break;
      }
    }
    expect_matches_scalar(GetParam(), a, b);
  }
}

TEST_P(ObjsImplTest, CompareIsUnsignedPast2To31) {
  const Impl& impl = GetParam();
  Objs a{}, b{};
  // Class 0: 2^31 > 2^31 - 1 (a signed compare says the opposite).
  a[0] = 0x8000'0000;
  b[0] = 0x7fff'ffff;
  // Class 5: 2^32 - 1 > 2^31.
  a[5] = 0xffff'ffff;
  b[5] = 0x8000'0000;
  // Class 9: 2^32 - 1 > 0 (signed: -1 < 0).
  a[9] = 0xffff'ffff;
  // Class 17: 2^31 - 1 > 2^31 is false (signed says true).
  a[17] = 0x7fff'ffff;
  b[17] = 0x8000'0000;
  // Class 23: 1 > 2^32 - 1 is false (signed: 1 > -1 true).
  a[23] = 1;
  b[23] = 0xffff'ffff;
  EXPECT_EQ(impl.cmp(a, b), (1u << 0) | (1u << 5) | (1u << 9)) << impl.name;
  EXPECT_EQ(impl.cmp(b, a), (1u << 17) | (1u << 23)) << impl.name;
}

TEST_P(ObjsImplTest, AddAndSubWrapModulo2To32) {
  const Impl& impl = GetParam();
  Objs a{}, one{};
  for (unsigned i = 0; i < kObjsClasses; ++i) {
    a[i] = 0xffff'ffff - i;  // class i wraps after i + 1 more
    one[i] = i + 1;
  }
  impl.add(a, one);
  EXPECT_EQ(a, Objs{}) << impl.name;
  impl.sub(a, one);
  for (unsigned i = 0; i < kObjsClasses; ++i) EXPECT_EQ(a[i], 0xffff'ffff - i) << impl.name << " class " << i;
}

// The reference semantics of the fused operations, stated without them.
TEST_P(ObjsImplTest, TakeIsAllOrNothingAndStartsTheAccount) {
  const Impl& impl = GetParam();
  std::mt19937 rng(5);
  for (int round = 0; round < 5'000; ++round) {
    Objs avail{}, want{};
    for (unsigned i = 0; i < kObjsClasses; ++i) {
      avail[i] = rng() % 6 == 0 ? kEdges[rng() % kNumEdges] : rng() % 10;
      want[i] = rng() % 3 == 0 ? 0 : rng() % 10;
    }
    ObjsAccount acct;
    for (unsigned i = 0; i < kObjsClasses; ++i) acct.limit[i] = acct.used[i] = acct.peak[i] = 0xdead'beef;
    const ObjsAccount before = acct;
    Objs got = avail;
    const bool covers = objs_cmp_scalar(want, avail) == 0;
    EXPECT_EQ(impl.take(got, want, acct), covers) << impl.name;
    if (!covers) {
      EXPECT_EQ(got, avail) << impl.name;
      EXPECT_EQ(acct.limit, before.limit) << impl.name;
      EXPECT_EQ(acct.used, before.used) << impl.name;
      continue;
    }
    Objs expect = avail;
    objs_sub_scalar(expect, want);
    EXPECT_EQ(got, expect) << impl.name;
    EXPECT_EQ(acct.limit, want) << impl.name;
    EXPECT_EQ(acct.used, Objs{}) << impl.name;
    EXPECT_EQ(acct.peak, Objs{}) << impl.name;
  }
}

TEST_P(ObjsImplTest, GiveReturnsTheUnusedAndNamesWhatToFlushAndMerge) {
  const Impl& impl = GetParam();
  std::mt19937 rng(6);
  for (int round = 0; round < 5'000; ++round) {
    Objs avail{}, keep{}, site_peak{};
    ObjsAccount acct{};
    for (unsigned i = 0; i < kObjsClasses; ++i) {
      avail[i] = rng() % 40;
      keep[i] = rng() % 40;
      acct.limit[i] = rng() % 10;
      // Used may pass below zero (frees of others' objects: credit).
      acct.used[i] = static_cast<uint32_t>(static_cast<int32_t>(rng() % 14) - 4);
      acct.peak[i] = rng() % 12;
      site_peak[i] = rng() % 2 ? kEdges[rng() % kNumEdges] : rng() % 12;
    }
    Objs expect = avail;
    Objs unused = acct.limit;
    objs_sub_scalar(unused, acct.used);
    objs_add_scalar(expect, unused);
    Objs got = avail;
    const ObjsGive g = impl.give(got, acct, keep, site_peak);
    EXPECT_EQ(got, expect) << impl.name;
    EXPECT_EQ(g.over_keep, objs_cmp_scalar(expect, keep)) << impl.name;
    EXPECT_EQ(g.new_peak, objs_cmp_scalar(acct.peak, site_peak)) << impl.name;
  }
}

INSTANTIATE_TEST_SUITE_P(All, ObjsImplTest, ::testing::ValuesIn(kImpls),
                         [](const ::testing::TestParamInfo<Impl>& info) { return std::string(info.param.name); });

TEST(Objs, DispatchUsesTheSelectedImplementation) {
  // Scalar before objs_init: correct anywhere, even before CPUID is read.
  EXPECT_EQ(objs_impl(), ObjsImpl::kScalar);
  EXPECT_TRUE(objs_impl_available(ObjsImpl::kScalar));
  EXPECT_FALSE(objs_impl_available(ObjsImpl::kSse2));
  Objs a{}, b{};
  a[3] = 0x8000'0000;
  b[3] = 5;
  b[4] = 1;
  const ObjsImpl best = __builtin_cpu_supports("avx2") ? ObjsImpl::kAvx2 : ObjsImpl::kSse2;
  for (ObjsImpl impl : {ObjsImpl::kScalar, ObjsImpl::kSse2, best}) {
    objs_init(impl);
    EXPECT_EQ(objs_impl(), impl);
    EXPECT_TRUE(objs_impl_available(impl));
    EXPECT_EQ(objs_cmp(a, b), 1u << 3) << objs_impl_name(impl);
    Objs c = a;
    objs_add(c, b);
    EXPECT_EQ(c[3], 0x8000'0005u);
    objs_sub(c, a);
    EXPECT_EQ(c, b);
  }
  objs_init(ObjsImpl::kScalar);
  EXPECT_STREQ(objs_impl_name(ObjsImpl::kAvx2), "avx2");
}

}  // namespace
}  // namespace rt
