// What makes a profiling sample well-formed, for the torture's check of
// every sample its 10 kHz profile kept: the CPU exists, the record holds a
// RIP and at most kMaxSamplePcs program counters, each inside the kernel's
// text, the mode field holds a mode the sampler writes, no unknown flag bit is set (no
// user mode: biscotti runs none), the event is the one profiled, and the
// timestamp falls inside the profile. A torn or overwritten record fails
// one of these. Any context (pure; host-tested).
#pragma once
#include "src/base/types.h"
#include "src/prof/sample_ring.h"

namespace torture {

/// The bounds a sample is checked against.
struct SampleBounds {
  uint32_t cpus = 0;     ///< CPUs that may have sampled: 0 .. cpus - 1.
  uint64_t text_lo = 0;  ///< The kernel's text: [text_lo, text_hi] (a return
                         ///< address may sit one past the last function).
  uint64_t text_hi = 0;
  uint64_t start = 0;  ///< The profile's span, in the timestamps' clock.
  uint64_t end = 0;
  uint8_t event = 0;  ///< The SampleEvent profiled.
};

/// Null when `s` is well-formed, else what is wrong with it.
constexpr const char* sample_problem(const prof::Sample& s, const SampleBounds& b) {
  if (s.header.cpu >= b.cpus) return "cpu out of range";
  if (s.n_pcs == 0) return "no pcs";
  if (s.n_pcs > prof::kMaxSamplePcs) return "more pcs than a record holds";
  if (s.header.event != b.event) return "another event";
  const uint16_t f = s.header.flags;
  if (prof::sample_flags::user(f)) return "user mode";
  if (static_cast<unsigned>(prof::sample_flags::mode(f)) > static_cast<unsigned>(prof::SampleMode::kIdle))
    return "unknown mode";
  if ((f & ~(prof::sample_flags::kModeMask | prof::sample_flags::kUser | prof::sample_flags::kWalkEndMask |
             prof::sample_flags::kTruncated)) != 0)
    return "unknown flag bits";
  if (s.header.timestamp < b.start || s.header.timestamp > b.end) return "timestamp outside the profile";
  for (uint8_t i = 0; i < s.n_pcs; ++i) {
    if (s.pcs[i] < b.text_lo || s.pcs[i] > b.text_hi)
      return i == 0 ? "rip outside kernel text" : "return address outside kernel text";
  }
  return nullptr;
}

}  // namespace torture
