// Which CPUs get the SDM's INIT-SIPI-SIPI waits: real CPUID dumps (QEMU's
// models and real processors in testdata/) decoded as the kernel does.
#include "src/arch/ap_start_delays.h"

#include <gtest/gtest.h>

#include <string>

#include "src/arch/testing/fake_cpuid.h"

namespace arch {
namespace {

using arch::testing::FakeCpuid;

ApStartDelays delays_for_dump(const std::string& path) {
  int lines = 0;
  FakeCpuid fake = FakeCpuid::from_testdata(path, &lines);
  EXPECT_GT(lines, 10) << path << ": missing or empty";
  const CpuFeatures f = decode_cpuid(fake);
  return ap_start_delays(f.vendor_id, f.family);
}

bool is_modern(ApStartDelays d) {
  return d.after_init_us == kModernApStartDelays.after_init_us &&
         d.after_startup_us == kModernApStartDelays.after_startup_us;
}

TEST(ApStartDelays, RealProcessorsAndQemuModelsStartWithoutTheSdmWaits) {
  for (const char* path : {
           "testdata/boot/m128M-smp2-qemu64.cpuid.txt",     // QEMU qemu64: AMD family 0xF
           "testdata/boot/m512M-smp4-max.cpuid.txt",        // QEMU max under TCG: the same
           "testdata/cpuid/intel-core2-6300.cpuid.txt",     // Intel family 6
           "testdata/cpuid/intel-core-i7-6700k.cpuid.txt",  // Intel family 6
           "testdata/cpuid/amd-ryzen-7-1700.cpuid.txt",     // AMD family 0x17
       }) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(is_modern(delays_for_dump(path)));
  }
}

TEST(ApStartDelays, OlderAndUnknownProcessorsKeepTheSdmWaits) {
  // NetBurst (Pentium 4) is Intel family 0xF; the K7 Athlon is AMD family 6.
  for (ApStartDelays d : {ap_start_delays(CpuVendor::kIntel, 0xf), ap_start_delays(CpuVendor::kIntel, 5),
                          ap_start_delays(CpuVendor::kAmd, 6), ap_start_delays(CpuVendor::kOther, 6)}) {
    EXPECT_EQ(d.after_init_us, 10'000u);
    EXPECT_EQ(d.after_startup_us, 200u);
  }
}

}  // namespace
}  // namespace arch
