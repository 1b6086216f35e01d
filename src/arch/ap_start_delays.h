// The waits between the steps of INIT-SIPI-SIPI. [sdm3] 8.4.4.1's
// algorithm is INIT, 10 ms, STARTUP, 200 us, STARTUP: waits sized for the
// discrete APICs of the 486 and Pentium era. Processors with an integrated
// APIC from the P6 family on (Intel family 6) and AMD's from the K8 on
// (family 0xF and later) start at the first STARTUP without them; Linux's
// smpboot makes the same split (its "modern processor" case: no INIT
// delay, 10 us after each STARTUP). Everything else, and any vendor we do
// not know, keeps the SDM's waits. At 10 ms per boot this is most of what
// bringing the APs up costs.
#pragma once

#include "src/arch/cpu_features.h"
#include "src/base/types.h"

namespace arch {

struct ApStartDelays {
  uint32_t after_init_us;
  uint32_t after_startup_us;
};

inline constexpr ApStartDelays kSdmApStartDelays{10'000, 200};
inline constexpr ApStartDelays kModernApStartDelays{10, 10};

/// The waits for the boot CPU's vendor and family (CpuFeatures::family,
/// with the extended family applied).
constexpr ApStartDelays ap_start_delays(CpuVendor vendor, uint32_t family) {
  const bool modern = (vendor == CpuVendor::kIntel && family == 6) || (vendor == CpuVendor::kAmd && family >= 0xf);
  return modern ? kModernApStartDelays : kSdmApStartDelays;
}

}  // namespace arch
