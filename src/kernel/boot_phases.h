// The boot's phases and the TSC cycles each took, recorded by kmain as it
// goes (before the clock is calibrated, so in raw TSC cycles) and printed
// once the TSC rate is known: `boot: phases ...` with `boot.timing=1`.
// Under -icount a TSC cycle is a guest instruction, so the figures are
// exact and comparable across runs. Fixed capacity: kmain's steps are a
// fixed list; one more than fits is a bug, named at once.
#pragma once

#include "src/base/assert.h"
#include "src/base/format.h"
#include "src/base/types.h"

namespace kernel {

class BootPhases {
 public:
  static constexpr size_t kMaxPhases = 16;

  /// Starts the record at `start_tsc` (the kernel's entry).
  constexpr explicit BootPhases(uint64_t start_tsc) : last_(start_tsc) {}

  /// Ends phase `name` at `now_tsc`; the next phase starts there.
  void end(const char* name, uint64_t now_tsc) {
    ASSERT_MSG(count_ < kMaxPhases, "boot phases: more than {} (adding '{}')", kMaxPhases, name);
    ASSERT_MSG(now_tsc >= last_, "boot phases: the TSC went back before '{}'", name);
    phases_[count_++] = Phase{name, now_tsc - last_};
    last_ = now_tsc;
  }

  size_t size() const { return count_; }
  const char* name(size_t i) const { return phases_[i].name; }
  uint64_t cycles(size_t i) const { return phases_[i].cycles; }

  /// `name us, name us, ...` at `tsc_hz`, into `sink`.
  void print(base::Sink sink, uint64_t tsc_hz) const {
    for (size_t i = 0; i < count_; ++i) {
      base::format(sink, "{}{} {} us", i ? ", " : "", phases_[i].name, phases_[i].cycles * 1'000'000 / tsc_hz);
    }
  }

 private:
  struct Phase {
    const char* name = "";
    uint64_t cycles = 0;
  };
  Phase phases_[kMaxPhases] = {};
  size_t count_ = 0;
  uint64_t last_;
};

}  // namespace kernel
