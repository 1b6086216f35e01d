// `top`'s arithmetic: which threads used the most CPU time between two
// looks at the thread list. Each look is a list of (tid, name, run time);
// a thread is matched to its earlier self by tid (sorted, then binary
// search: no O(n^2)), one that appeared in between counts from zero, and
// the busiest come first. Pure and allocation-free (the caller's arrays);
// host-tested. Any context.
#pragma once

#include "src/base/types.h"

namespace sched {

struct ThreadTime {
  uint32_t tid = 0;
  char name[24] = {};
  uint64_t run_ns = 0;
};

/// Sorts `rows` by tid (insertion sort: a few hundred rows, no allocation).
inline void sort_by_tid(ThreadTime* rows, size_t n) {
  for (size_t i = 1; i < n; ++i) {
    const ThreadTime r = rows[i];
    size_t j = i;
    for (; j > 0 && rows[j - 1].tid > r.tid; --j) rows[j] = rows[j - 1];
    rows[j] = r;
  }
}

/// The run time `tid` had in `before` (sorted by tid), or 0 if it was not
/// there (a thread born since).
inline uint64_t run_ns_before(const ThreadTime* before, size_t n, uint32_t tid) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (before[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && before[lo].tid == tid ? before[lo].run_ns : 0;
}

/// Turns `after` into deltas against `before` (sorted by tid) in place,
/// busiest first (ties by tid), and returns the total of the deltas. A
/// run time that went backwards (a tid reused by a new thread) counts from
/// zero.
inline uint64_t busiest_since(const ThreadTime* before, size_t n_before, ThreadTime* after, size_t n_after) {
  uint64_t total = 0;
  for (size_t i = 0; i < n_after; ++i) {
    const uint64_t was = run_ns_before(before, n_before, after[i].tid);
    after[i].run_ns = after[i].run_ns >= was ? after[i].run_ns - was : after[i].run_ns;
    total += after[i].run_ns;
  }
  for (size_t i = 1; i < n_after; ++i) {
    const ThreadTime r = after[i];
    size_t j = i;
    for (; j > 0 && (after[j - 1].run_ns < r.run_ns || (after[j - 1].run_ns == r.run_ns && after[j - 1].tid > r.tid));
         --j)
      after[j] = after[j - 1];
    after[j] = r;
  }
  return total;
}

}  // namespace sched
