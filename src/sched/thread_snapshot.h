// A copy of the thread list for `threads`: taken under the thread-list lock
// (where nothing may block or allocate, hence a fixed array), then sorted by
// CPU time and printed after the lock is dropped. Pure logic, host-tested.
// Any context.
#pragma once

#include "src/base/types.h"
#include "src/sched/affinity.h"

namespace sched {

struct ThreadRow {
  uint32_t tid = 0;
  char name[24] = {};
  const char* state = "";  // a static string ("idle" for a CPU's idle thread)
  bool idle = false;
  arch::CpuIndex last_cpu;
  Affinity affinity = Affinity::any();
  uint64_t run_ns = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
};

/// Up to kRows rows; the totals count every thread added, listed or not.
template <size_t kRows>
class ThreadSnapshot {
 public:
  /// Empties it in place (a fresh copy would be a stack temporary of the
  /// whole array).
  void clear() {
    n_ = threads_ = idle_ = unlisted_ = 0;
    run_ns_ = voluntary_ = involuntary_ = 0;
  }

  void add(const ThreadRow& r) {
    ++threads_;
    if (r.idle) ++idle_;
    run_ns_ += r.run_ns;
    voluntary_ += r.voluntary;
    involuntary_ += r.involuntary;
    if (n_ < kRows)
      rows_[n_++] = r;
    else
      ++unlisted_;
  }

  /// Most CPU time first; equal times by thread id. Insertion sort: a few
  /// hundred rows at most, and no allocation.
  void sort() {
    for (size_t i = 1; i < n_; ++i) {
      ThreadRow r = rows_[i];
      size_t j = i;
      for (; j > 0 && before(r, rows_[j - 1]); --j) rows_[j] = rows_[j - 1];
      rows_[j] = r;
    }
  }

  size_t size() const { return n_; }
  const ThreadRow& operator[](size_t i) const { return rows_[i]; }
  size_t threads() const { return threads_; }
  size_t idle() const { return idle_; }
  size_t unlisted() const { return unlisted_; }  ///< past kRows: in the totals only
  uint64_t run_ns() const { return run_ns_; }
  uint64_t voluntary() const { return voluntary_; }
  uint64_t involuntary() const { return involuntary_; }

 private:
  static bool before(const ThreadRow& a, const ThreadRow& b) {
    return a.run_ns != b.run_ns ? a.run_ns > b.run_ns : a.tid < b.tid;
  }

  ThreadRow rows_[kRows];
  size_t n_ = 0, threads_ = 0, idle_ = 0, unlisted_ = 0;
  uint64_t run_ns_ = 0, voluntary_ = 0, involuntary_ = 0;
};

}  // namespace sched
