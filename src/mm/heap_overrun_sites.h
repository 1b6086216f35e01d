// The call sites that overran their reservation, so each is reported once:
// a lock-free set of return addresses (open addressing, linear probing).
// Any context but NMI.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"

namespace mm {

template <size_t kSlots>
class OverrunSites {
  static_assert(kSlots > 0 && (kSlots & (kSlots - 1)) == 0, "a power of two");

 public:
  enum class Insert { kFirst, kSeen, kFull };

  /// Records `site` (nonzero): kFirst the first time, kSeen after. kFull
  /// when every slot holds another site: the caller reports it anyway (a
  /// repeat is better than silence) and counts it.
  Insert insert(uint64_t site) {
    size_t i = hash(site);
    for (size_t probe = 0; probe < kSlots; ++probe, i = (i + 1) & (kSlots - 1)) {
      uint64_t seen = slots_[i].load(base::MemoryOrder::kAcquire);
      if (seen == site) return Insert::kSeen;
      if (seen == 0) {
        if (slots_[i].compare_exchange(seen, site, base::MemoryOrder::kAcqRel, base::MemoryOrder::kAcquire)) {
          count_.fetch_add(1, base::MemoryOrder::kRelaxed);
          return Insert::kFirst;
        }
        if (seen == site) return Insert::kSeen;  // another CPU recorded it first
      }
    }
    return Insert::kFull;
  }

  /// Distinct sites recorded.
  size_t count() const { return count_.load(base::MemoryOrder::kRelaxed); }

  /// Calls fn(site) for every recorded site (in no particular order).
  template <typename Fn>
  void for_each(Fn fn) const {
    for (const auto& s : slots_) {
      uint64_t v = s.load(base::MemoryOrder::kAcquire);
      if (v != 0) fn(v);
    }
  }

 private:
  static size_t hash(uint64_t v) { return static_cast<size_t>((v * 0x9e37'79b9'7f4a'7c15ull) >> 40) & (kSlots - 1); }

  base::Atomic<uint64_t> slots_[kSlots] = {};
  base::Atomic<size_t> count_{0};
};

}  // namespace mm
