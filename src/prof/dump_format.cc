// See dump_format.h.
#include "src/prof/dump_format.h"

#include "src/prof/sample_pprof.h"

namespace prof {

const char* sample_event_name(uint8_t event) {
  switch (static_cast<SampleEvent>(event)) {
    case SampleEvent::kNmiTimer:
      return "nmi";
    case SampleEvent::kTimer:
      return "timer";
    case SampleEvent::kCycles:
      return "cycles";
    case SampleEvent::kInstructions:
      return "instructions";
    case SampleEvent::kBranchMisses:
      return "branch-misses";
    case SampleEvent::kLlcMisses:
      return "llc-misses";
  }
  return "unknown";
}

bool parse_sample_event(base::StrView name, SampleEvent* out) {
  for (int i = 0; i < kSampleEventCount; ++i) {
    if (name == base::StrView(sample_event_name(static_cast<uint8_t>(i)))) {
      *out = static_cast<SampleEvent>(i);
      return true;
    }
  }
  return false;
}

void write_dump_begin(base::Sink out, const DumpHeader& h) {
  base::format(out, "prof-dump begin v1 build-id={} hz={} period_ns={} cpus={}\n",
               h.build_id_hex.empty() ? base::StrView("none") : h.build_id_hex, h.hz, h.period_ns, h.cpus);
}

void write_dump_sample(base::Sink out, const Sample& s) {
  base::format(out, "s {} {} {} {} {}", s.header.cpu, s.header.tid,
               sample_mode_name(sample_flags::mode(s.header.flags)), s.header.event, s.header.timestamp);
  for (size_t i = 0; i < s.n_pcs; ++i) base::format(out, " {:x}", s.pcs[i]);
  if (s.n_branches != 0) base::format(out, " lbr");
  for (size_t i = 0; i < s.n_branches && i < kMaxSampleBranches; ++i)
    base::format(out, " {:x}>{:x}{}", s.branches[i].from, s.branches[i].to, s.branches[i].mispredicted ? "!" : "");
  base::format(out, "\n");
}

void write_dump_end(base::Sink out, uint64_t samples, uint64_t dropped) {
  base::format(out, "prof-dump end samples={} dropped={}\n", samples, dropped);
}

}  // namespace prof
