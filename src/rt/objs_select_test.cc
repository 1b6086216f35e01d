// Host tests of the Objs implementation choice, on the real CPUID dumps of
// testdata/boot (QEMU 7.2 TCG: qemu64 without AVX, max with AVX2 and XSAVE)
// and on the cases those cannot show.
#include "src/rt/objs_select.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "src/base/testing/testdata.h"

namespace rt {
namespace {

// A CPUID source over a dump's `leaf subleaf eax ebx ecx edx` lines.
class DumpCpuid {
 public:
  explicit DumpCpuid(const std::string& config) {
    std::vector<uint8_t> bytes = base::testing::read_testdata("testdata/boot/" + config + ".cpuid.txt");
    std::istringstream in(std::string(bytes.begin(), bytes.end()));
    for (std::string line; std::getline(in, line);) {
      unsigned leaf, subleaf, a, b, c, d;
      if (line.empty() || line[0] == '#') continue;
      if (std::sscanf(line.c_str(), "%x %x %x %x %x %x", &leaf, &subleaf, &a, &b, &c, &d) == 6)
        table_[{leaf, subleaf}] = arch::CpuidRegs{a, b, c, d};
    }
  }
  size_t size() const { return table_.size(); }
  arch::CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) {
    auto it = table_.find({leaf, subleaf});
    return it == table_.end() ? arch::CpuidRegs{} : it->second;
  }

 private:
  std::map<std::pair<uint32_t, uint32_t>, arch::CpuidRegs> table_;
};

arch::CpuFeatures features_of(const std::string& config) {
  DumpCpuid dump(config);
  EXPECT_GT(dump.size(), 10u) << config << ": testdata not found";
  return arch::decode_cpuid(dump);
}

constexpr uint64_t kKernelXcr0 = arch::kXcr0X87 | arch::kXcr0Sse | arch::kXcr0Avx;

TEST(ChooseObjsImpl, MaxModelGetsAvx2OnceAvxStateIsEnabled) {
  for (const char* config : {"m512M-smp4-max", "m4G-smp8-max", "m2G-smp4-q35-max"}) {
    SCOPED_TRACE(config);
    arch::CpuFeatures f = features_of(config);
    EXPECT_EQ(choose_objs_impl(f, kKernelXcr0), ObjsImpl::kAvx2);
    // Before the kernel sets CR4.OSXSAVE and XCR0, AVX2 would #UD.
    EXPECT_EQ(choose_objs_impl(f, 0), ObjsImpl::kSse2);
    // XCR0 with SSE but not the AVX component: still no AVX.
    EXPECT_EQ(choose_objs_impl(f, arch::kXcr0X87 | arch::kXcr0Sse), ObjsImpl::kSse2);
  }
}

TEST(ChooseObjsImpl, Qemu64GetsSse2) {
  for (const char* config : {"m32M-smp1-qemu64", "m128M-smp2-qemu64", "m3584M-smp2-qemu64"}) {
    SCOPED_TRACE(config);
    arch::CpuFeatures f = features_of(config);
    EXPECT_EQ(choose_objs_impl(f, 0), ObjsImpl::kSse2);
    // Even a (wrong) XCR0 does not make a CPU without AVX2 use it.
    EXPECT_EQ(choose_objs_impl(f, kKernelXcr0), ObjsImpl::kSse2);
  }
}

TEST(ChooseObjsImpl, Avx2WithoutXsaveOrAvxStateIsNotUsed) {
  arch::CpuFeatures f = features_of("m512M-smp4-max");
  arch::CpuFeatures no_xsave = f;
  no_xsave.xsave = false;
  EXPECT_EQ(choose_objs_impl(no_xsave, kKernelXcr0), ObjsImpl::kSse2);
  arch::CpuFeatures no_avx_component = f;
  no_avx_component.xcr0_supported = arch::kXcr0X87 | arch::kXcr0Sse;
  EXPECT_EQ(choose_objs_impl(no_avx_component, kKernelXcr0), ObjsImpl::kSse2);
  arch::CpuFeatures no_avx2 = f;
  no_avx2.avx2 = false;
  EXPECT_EQ(choose_objs_impl(no_avx2, kKernelXcr0), ObjsImpl::kSse2);
  arch::CpuFeatures no_sse2 = no_avx2;
  no_sse2.sse2 = false;
  EXPECT_EQ(choose_objs_impl(no_sse2, 0), ObjsImpl::kScalar);
}

}  // namespace
}  // namespace rt
