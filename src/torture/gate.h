// A gate the torture's memory and reservation workers pass at the top of
// each operation: closed, it parks them (on a futex) so that a checker can
// read counters that are exact only when nobody allocates (rt's
// accounting sum, mm's counters), then opens it again. Closing waits on
// what it can see (every participant parked), bounded only to turn a hang
// into a failure. Kernel only, thread context.
#pragma once
#include "src/base/atomic.h"
#include "src/base/types.h"

namespace torture {

class Gate {
 public:
  /// Worker side: returns at once when open, else parks until opened.
  void checkpoint();
  /// Closes the gate and waits until `participants` workers are parked;
  /// false (the gate still closed: open() it) if they were not within
  /// `bound_ns`.
  bool close(uint32_t participants, uint64_t bound_ns);
  /// Opens it and waits until every parked worker has left (bounded as
  /// close is); false if one did not.
  bool open(uint64_t bound_ns);

 private:
  uint32_t closed_ = 0;  // the futex word: 1 while closed
  base::Atomic<uint32_t> parked_{0};
};

}  // namespace torture
