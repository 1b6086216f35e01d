// The text a profile leaves the kernel in (`prof dump`, and `prof.start=`
// runs at their end), documented in docs/profile_dump_format.md and read by
// the host tool (//:profile):
//
//   prof-dump begin v1 build-id=<hex|none> hz=<N> period_ns=<N> cpus=<N>
//   s <cpu> <tid> <mode> <event> <timestamp-ns> <pc0> [<pc1> ...] [lbr <from>><to>[!] ...]
//   prof-dump end samples=<N> dropped=<N>
//
// One line per sample; numbers decimal, pcs lowercase hex without 0x, pc0
// the interrupted instruction, then return addresses innermost first; with
// the LBR on, its branches newest first (`!`: mispredicted). The
// end line's count lets the reader prove the capture complete.
//
// Pure formatting into a sink; thread context (the console sink locks).
#pragma once

#include "src/base/format.h"
#include "src/base/str.h"
#include "src/prof/sample_ring.h"

namespace prof {

/// The sampling events a sample's `event` byte holds (numbers fixed: they
/// are in dumps; docs/profile_dump_format.md lists them).
enum class SampleEvent : uint8_t {
  kNmiTimer = 0,      // the periodic NMI (no PMU needed)
  kTimer = 1,         // the periodic maskable interrupt (the timer path)
  kCycles = 2,        // PMU counter overflows (the PMI, as an NMI): core cycles
  kInstructions = 3,  // instructions retired
  kBranchMisses = 4,  // branches mispredicted
  kLlcMisses = 5,     // last-level cache misses
};
inline constexpr int kSampleEventCount = 6;

/// `prof start`'s name for an event ("nmi", "timer", "cycles",
/// "instructions", "branch-misses", "llc-misses"); "unknown" otherwise.
const char* sample_event_name(uint8_t event);

/// The event `name` names (sample_event_name's inverse); false for none.
bool parse_sample_event(base::StrView name, SampleEvent* out);

/// Whether `e` is counted by the PMU (rather than sampled from a timer).
constexpr bool is_pmu_event(SampleEvent e) { return e >= SampleEvent::kCycles && e <= SampleEvent::kLlcMisses; }

struct DumpHeader {
  base::StrView build_id_hex;  // empty: "none"
  uint32_t hz = 0;
  uint64_t period_ns = 0;
  uint32_t cpus = 0;
};

void write_dump_begin(base::Sink out, const DumpHeader& h);
void write_dump_sample(base::Sink out, const Sample& s);
void write_dump_end(base::Sink out, uint64_t samples, uint64_t dropped);

}  // namespace prof
