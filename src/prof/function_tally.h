// FunctionTally: `prof top`'s table, samples counted per function: self
// (the function was the leaf) and cumulative (it was anywhere on the
// stack, counted once per sample however deep the recursion). An
// open-addressing hash table in caller-provided slots, so the kernel sizes
// it once; a full table counts the samples it could not place instead of
// growing or dropping silently.
//
// Pure; thread context (it is not meant for NMI, but takes no locks).
#pragma once

#include "src/base/assert.h"
#include "src/base/types.h"

namespace prof {

struct TallyEntry {
  uint64_t function = 0;  // a function's start address (0 marks a free slot)
  uint64_t self = 0;
  uint64_t cum = 0;
};

class FunctionTally {
 public:
  /// `slots` (a power of two of them, all zero) hold the table.
  FunctionTally(TallyEntry* slots, size_t capacity) : slots_(slots), capacity_(capacity) {
    ASSERT_MSG(capacity >= 2 && base::is_pow2(capacity), "function tally: capacity {} is not a power of two", capacity);
  }

  /// Counts one sample whose frames resolved to `functions` (leaf first;
  /// 0 = unknown, skipped). False (and counted in unplaced()) when a new
  /// function found no free slot; the sample's other functions still count.
  bool add(const uint64_t* functions, size_t n) {
    ++samples_;
    bool placed = true;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t f = functions[i];
      if (f == 0 || seen_earlier(functions, i)) continue;
      TallyEntry* e = find_or_insert(f);
      if (e == nullptr) {
        placed = false;
        continue;
      }
      ++e->cum;
      if (i == 0) ++e->self;
    }
    if (!placed) ++unplaced_;
    return placed;
  }

  uint64_t samples() const { return samples_; }
  uint64_t unplaced() const { return unplaced_; }

  /// Moves the entries to the front of the slots, ordered by self count,
  /// then cumulative count (both descending), then address, and returns how
  /// many there are. The table cannot be added to afterwards.
  size_t sort() {
    size_t n = 0;
    for (size_t i = 0; i < capacity_; ++i)
      if (slots_[i].function != 0) slots_[n++] = slots_[i];
    for (size_t i = n; i < capacity_; ++i) slots_[i] = TallyEntry{};
    // Insertion sort into a binary-searched place: n log n compares, and
    // a profile has at most a few thousand functions.
    for (size_t i = 1; i < n; ++i) {
      const TallyEntry e = slots_[i];
      size_t lo = 0, hi = i;
      while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (before(e, slots_[mid]))
          hi = mid;
        else
          lo = mid + 1;
      }
      for (size_t j = i; j > lo; --j) slots_[j] = slots_[j - 1];
      slots_[lo] = e;
    }
    sorted_ = true;
    return n;
  }

 private:
  static bool before(const TallyEntry& a, const TallyEntry& b) {
    if (a.self != b.self) return a.self > b.self;
    if (a.cum != b.cum) return a.cum > b.cum;
    return a.function < b.function;
  }
  static bool seen_earlier(const uint64_t* f, size_t i) {
    for (size_t j = 0; j < i; ++j)
      if (f[j] == f[i]) return true;
    return false;
  }
  TallyEntry* find_or_insert(uint64_t f) {
    ASSERT_MSG(!sorted_, "function tally: add() after sort()");
    // Fibonacci hashing spreads nearby function addresses over the table.
    size_t i = static_cast<size_t>((f * 0x9e37'79b9'7f4a'7c15ull) >> 32) & (capacity_ - 1);
    for (size_t probes = 0; probes < capacity_; ++probes, i = (i + 1) & (capacity_ - 1)) {
      if (slots_[i].function == f) return &slots_[i];
      if (slots_[i].function == 0) {
        slots_[i].function = f;
        return &slots_[i];
      }
    }
    return nullptr;
  }

  TallyEntry* slots_;
  size_t capacity_;
  uint64_t samples_ = 0;
  uint64_t unplaced_ = 0;
  bool sorted_ = false;
};

}  // namespace prof
