// Fault injection's decision (issue 16, item 3): per-site failure rates in
// per mille and one xorshift stream per CPU, seeded from `fail.seed` and the
// CPU number, so that a run is reproducible (each CPU draws the same
// sequence for the same seed) and no CPU writes another's state (no lock, no
// shared cache line). Pure logic, host-tested; the kernel's switch and
// scopes are in fail_inject.h.
#pragma once

#include "src/base/types.h"

namespace mm {

/// Where a failure can be injected: page_alloc, kmalloc, rt's reserve.
enum class FaultSite : uint8_t { kPage = 0, kHeap = 1, kReserve = 2 };
inline constexpr unsigned kFaultSites = 3;

/// The site's name in boot options and reports ("page", "heap", "reserve").
constexpr const char* fault_site_name(FaultSite s) {
  switch (s) {
    case FaultSite::kPage:
      return "page";
    case FaultSite::kHeap:
      return "heap";
    case FaultSite::kReserve:
      return "reserve";
  }
  return "?";
}

/// The largest rate: 1000 per mille fails every call.
inline constexpr uint32_t kFaultPerMilleMax = 1000;

/// What the boot options asked for.
struct FaultConfig {
  uint32_t per_mille[kFaultSites] = {};  ///< 0..kFaultPerMilleMax each.
  uint64_t seed = 1;

  uint32_t rate(FaultSite s) const { return per_mille[static_cast<unsigned>(s)]; }
  bool any() const { return per_mille[0] != 0 || per_mille[1] != 0 || per_mille[2] != 0; }
};

/// splitmix64's finaliser over (seed, cpu): distinct CPUs get unrelated
/// streams even for adjacent seeds, and the result is never 0 (xorshift's
/// one fixed point).
constexpr uint64_t fault_stream_seed(uint64_t seed, uint32_t cpu) {
  uint64_t z = seed + 0x9e37'79b9'7f4a'7c15 * (uint64_t{cpu} + 1);
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11eb;
  z ^= z >> 31;
  return z != 0 ? z : 0x2545'f491'4f6c'dd1d;
}

/// One CPU's stream and its counters. Written only by its CPU (with
/// interrupts off in the kernel); the counters are read racily by reports.
struct FaultStream {
  uint64_t state = 0;                ///< Zero until seed() (so a kernel's array of them is .bss, not 16 KiB of image).
  uint64_t draws[kFaultSites] = {};  ///< Decisions taken with a nonzero rate.
  uint64_t injected[kFaultSites] = {};  ///< Of those, failures.

  void seed(uint64_t seed, uint32_t cpu) { state = fault_stream_seed(seed, cpu); }

  /// Whether this call at `site` fails, at `per_mille` (clamped to 1000).
  /// A rate of 0 draws nothing, so turning one site off leaves the other
  /// sites' sequences as they were.
  bool decide(FaultSite site, uint32_t per_mille) {
    if (per_mille == 0) return false;
    // xorshift64 (Marsaglia 2003, shifts 13, 7, 17): a full period of
    // 2^64 - 1 for any nonzero state, three shifts and three xors.
    uint64_t x = state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state = x;
    const unsigned i = static_cast<unsigned>(site);
    ++draws[i];
    // The top bits are xorshift's best; the modulo's bias (2^-53) is nil.
    const bool fail = (x >> 11) % kFaultPerMilleMax < per_mille;
    if (fail) ++injected[i];
    return fail;
  }
};

}  // namespace mm
