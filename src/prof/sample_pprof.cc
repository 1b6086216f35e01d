// Sample to PprofSample: see sample_pprof.h.
#include "src/prof/sample_pprof.h"

#include "src/base/assert.h"

namespace prof {

const char* sample_mode_name(SampleMode m) {
  switch (m) {
    case SampleMode::kThread:
      return "thread";
    case SampleMode::kInterrupt:
      return "interrupt";
    case SampleMode::kIdle:
      return "idle";
  }
  return "?";
}

PprofSample to_pprof_sample(const Sample& s, int64_t period_ns, PprofSampleStorage* storage) {
  const size_t n = s.n_pcs <= kMaxSamplePcs ? s.n_pcs : kMaxSamplePcs;
  for (size_t i = 0; i < n; ++i) storage->pcs[i] = i == 0 ? s.pcs[0] : s.pcs[i] - 1;
  storage->values[0] = 1;
  storage->values[1] = period_ns;
  // Units on the numeric labels: pprof drops a numeric label whose value
  // is 0 and which has no unit, so CPU 0 and thread 0 (no thread) would
  // carry none and -tagfocus cpu=0 would select nothing.
  storage->labels[0] = PprofLabel{.key = "cpu", .num = s.header.cpu, .num_unit = "cpu"};
  storage->labels[1] = PprofLabel{.key = "thread", .num = static_cast<int64_t>(s.header.tid), .num_unit = "thread"};
  storage->labels[2] = PprofLabel{.key = "mode", .str = sample_mode_name(sample_flags::mode(s.header.flags))};
  return PprofSample{
      .pcs = base::Span<const uint64_t>(storage->pcs, n),
      .values = base::Span<const int64_t>(storage->values, 2),
      .labels = base::Span<const PprofLabel>(storage->labels, 3),
  };
}

PprofSample to_pprof_branch_sample(const Sample& s, size_t i, PprofSampleStorage* storage) {
  ASSERT_MSG(i < s.n_branches && i < kMaxSampleBranches, "branch {} of a sample with {}", i, s.n_branches);
  const SampleBranch& b = s.branches[i];
  storage->pcs[0] = b.to;
  storage->pcs[1] = b.from;
  storage->values[0] = 1;
  storage->values[1] = 0;
  storage->labels[0] = PprofLabel{.key = "cpu", .num = s.header.cpu, .num_unit = "cpu"};
  storage->labels[1] = PprofLabel{.key = "thread", .num = static_cast<int64_t>(s.header.tid), .num_unit = "thread"};
  storage->labels[2] = PprofLabel{.key = "mode", .str = sample_mode_name(sample_flags::mode(s.header.flags))};
  storage->labels[3] = PprofLabel{.key = "kind", .str = "lbr"};
  storage->labels[4] = PprofLabel{.key = "mispredicted", .str = b.mispredicted ? "yes" : "no"};
  return PprofSample{
      .pcs = base::Span<const uint64_t>(storage->pcs, 2),
      .values = base::Span<const int64_t>(storage->values, 2),
      .labels = base::Span<const PprofLabel>(storage->labels, 5),
  };
}

}  // namespace prof
