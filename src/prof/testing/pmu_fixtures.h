// What the PMU tests share: MSR accesses as the fake bank logs them, and
// PMUs discovered from the real CPUID captures in testdata/cpuid.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "src/arch/testing/fake_cpuid.h"
#include "src/arch/testing/fake_msr.h"
#include "src/prof/lbr.h"
#include "src/prof/pmu.h"

namespace prof::testing {

using MsrAccess = arch::testing::FakeMsrBank::Access;

/// An MSR write or read of `v`, as the fake bank logs it.
inline MsrAccess wr(uint32_t msr, uint64_t v) { return {true, msr, v}; }
inline MsrAccess rd(uint32_t msr, uint64_t v) { return {false, msr, v}; }

/// The CPUID capture at `path` (a testdata file); fails the test if empty.
inline arch::testing::FakeCpuid load_cpuid(const std::string& path) {
  int lines = 0;
  arch::testing::FakeCpuid fake = arch::testing::FakeCpuid::from_testdata(path, &lines);
  EXPECT_GT(lines, 0) << path;
  return fake;
}

/// The PMU discovered on the CPU captured at `path`.
inline PmuInfo pmu_of(const std::string& path) { return discover_pmu(load_cpuid(path)); }

/// A Skylake-client IA32_PERF_CAPABILITIES: LBR format 5 (bits 5:0),
/// PEBS format 3 and the capability bits above it.
inline constexpr uint64_t kSkylakePerfCapabilities = 0x33c5;

/// The LBR stack discovered on the CPU captured at `path`, whose
/// IA32_PERF_CAPABILITIES reads `perf_capabilities`.
inline LbrInfo lbr_of(const std::string& path, uint64_t perf_capabilities) {
  arch::testing::FakeMsrBank bank;
  bank.set(kIa32PerfCapabilities, perf_capabilities);
  arch::testing::FakeMsr msr{&bank};
  return discover_lbr(load_cpuid(path), msr);
}

}  // namespace prof::testing
