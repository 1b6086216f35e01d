// From a drained ring Sample to the PprofSample encode_pprof() takes: the
// kernel's two sample types, and cpu, thread and mode as labels so that
// `go tool pprof -tagfocus cpu=1` picks one CPU (issue 13, item 9).
//
// Pure data conversion; callable from any thread context.
#pragma once

#include "src/base/types.h"
#include "src/prof/pprof.h"
#include "src/prof/sample_ring.h"

namespace prof {

/// Every kernel profile counts samples and the CPU time they stand for.
inline constexpr PprofValueType kKernelSampleTypes[] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
inline constexpr PprofValueType kKernelPeriodType = {"cpu", "nanoseconds"};

/// The arrays one converted sample points into; the caller keeps it alive
/// until the profile is encoded.
struct PprofSampleStorage {
  uint64_t pcs[kMaxSamplePcs];
  int64_t values[2];
  PprofLabel labels[5];
};

/// "thread", "interrupt" or "idle".
const char* sample_mode_name(SampleMode m);

/// Fills `*storage` from `s` and returns a PprofSample over it: values
/// {1, period_ns}; labels cpu and thread (numbers) and mode (a string); pcs
/// leaf first, each return address (pcs[1..]) moved back one byte so it
/// lies inside its call instruction: a symbolizer given only an address
/// then names the caller's line, not the one after the call (or the next
/// function, after a call that never returns).
PprofSample to_pprof_sample(const Sample& s, int64_t period_ns, PprofSampleStorage* storage);

/// Branch `i` of `s`'s LBR stack (i < s.n_branches) as a pprof sample of
/// its own, the way a pprof user reads branches: a two-frame stack whose
/// leaf is the branch target and whose caller is the branch instruction
/// (from as is: it is the branch, not a return address), so the graph and
/// `-peek` show each branch as an edge from -> to, and `-top` ranks
/// targets (flat) and sources (cum). Values {1, 0}: a branch counts but
/// stands for no CPU time, so time views are unchanged. Labels: s's cpu,
/// thread and mode, kind=lbr and mispredicted=yes|no, so that
/// `-tagfocus kind=lbr` shows the branches alone and `-tagignore kind=lbr`
/// the sample counts without them.
PprofSample to_pprof_branch_sample(const Sample& s, size_t i, PprofSampleStorage* storage);

}  // namespace prof
