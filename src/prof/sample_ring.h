// SampleRing: one CPU's buffer of profiling samples, written by that CPU's
// NMI (or timer) handler and drained by a reader thread. Samples have
// variable length (a header, 1..kMaxSamplePcs program counters and, when the
// LBR is on, up to kMaxSampleBranches last branch records), so the
// ring holds 64-bit words and a sample may straddle the end of the array.
//
// Contexts: push() from the CPU's sample handler only -- NMI included: it
// takes no lock, allocates nothing, never waits and does bounded work (at
// most kMaxSampleWords word stores). pop() from one reader thread at a time.
// The NMI may land in the middle of pop() on the same CPU: the reader's
// record stays claimed until pop() releases it, so the handler only ever
// writes words the reader has finished with. A full ring drops the new
// sample and counts it; it never overwrites an unread one.
#pragma once

#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/base/types.h"
#include "src/prof/backtrace.h"

namespace prof {

struct SampleRingTestPeer;

/// RIP plus up to 32 return addresses (issue 13: "RIP and up to 32 return
/// addresses").
inline constexpr size_t kMaxSamplePcs = 33;

/// The LBR stack a sample carries, newest branch first (issue 13: "plus
/// the LBR stack when it is on"): 32, Skylake's model-specific depth; an
/// architectural stack of 64 is cut to its newest 32.
inline constexpr size_t kMaxSampleBranches = 32;

/// One taken branch from the LBR stack (prof/lbr.h decodes the records).
struct SampleBranch {
  uint64_t from = 0;
  uint64_t to = 0;
  bool mispredicted = false;
  bool operator==(const SampleBranch&) const = default;
};

/// What the CPU was doing when the sample was taken.
enum class SampleMode : uint8_t { kThread = 0, kInterrupt = 1, kIdle = 2 };

/// Sample flags: a 16-bit word packed into the record header.
///   bits 1:0  SampleMode
///   bit  2    the interrupted code ran in user mode (CPL 3)
///   bits 5:3  why the stack walk ended: WalkEnd + 1, 0 = no walk recorded
///   bit  6    pcs were cut to kMaxSamplePcs by push()
///   bit  7    the record carries branches (set by push() when it has any)
namespace sample_flags {
inline constexpr uint16_t kModeMask = 0x3;
inline constexpr uint16_t kUser = 1u << 2;
inline constexpr int kWalkEndShift = 3;
inline constexpr uint16_t kWalkEndMask = 0x7u << kWalkEndShift;
inline constexpr uint16_t kTruncated = 1u << 6;
inline constexpr uint16_t kBranches = 1u << 7;
static_assert(static_cast<int>(kLastWalkEnd) + 1 <= 7, "WalkEnd + 1 must fit bits 5:3");

constexpr uint16_t make(SampleMode mode, bool user) {
  return static_cast<uint16_t>(static_cast<uint16_t>(mode) | (user ? kUser : 0));
}
/// `f` with the reason the stack walk ended.
constexpr uint16_t with_walk_end(uint16_t f, WalkEnd e) {
  return static_cast<uint16_t>((f & ~kWalkEndMask) | ((static_cast<int>(e) + 1) << kWalkEndShift));
}
constexpr SampleMode mode(uint16_t f) { return static_cast<SampleMode>(f & kModeMask); }
constexpr bool user(uint16_t f) { return (f & kUser) != 0; }
/// Whether a walk was recorded; if so, why it ended, in `*e`.
constexpr bool walk_end(uint16_t f, WalkEnd* e) {
  const int v = (f & kWalkEndMask) >> kWalkEndShift;
  if (v == 0) return false;
  *e = static_cast<WalkEnd>(v - 1);
  return true;
}
}  // namespace sample_flags

/// Everything about a sample except its pcs.
struct SampleHeader {
  uint32_t cpu = 0;
  uint64_t tid = 0;
  uint64_t timestamp = 0;  // the caller's clock (TSC or nanotime); the ring never reads it
  uint16_t flags = 0;      // sample_flags
  uint8_t event = 0;       // which counter or source fired (pmc's event, or the timer)
};

/// One sample as the reader gets it back: pcs[0] is the interrupted RIP,
/// then return addresses, innermost first.
struct Sample {
  SampleHeader header;
  uint8_t n_pcs = 0;
  uint64_t pcs[kMaxSamplePcs] = {};
  uint8_t n_branches = 0;  // 0 when the LBR was off
  SampleBranch branches[kMaxSampleBranches] = {};
};

namespace internal {
// Record layout, in words:
//   [0] n_pcs (bits 7:0) | event (15:8) | flags (31:16) | cpu (63:32)
//   [1] tid
//   [2] timestamp
//   [3 .. 3+n_pcs) pcs
// and, when flags has kBranches:
//   [b]  n_branches (bits 7:0) | mispredicted mask, bit i for branch i (63:32)
//   [b+1 .. b+1+2*n_branches) from, to of each branch, newest first
// n_pcs is in the first word so the reader knows the length after one load.
inline constexpr size_t kSampleHeaderWords = 3;
static_assert(kMaxSamplePcs <= 0xff, "n_pcs is an 8-bit field of the header word");
static_assert(kMaxSampleBranches <= 32, "the mispredicted mask is 32 bits of the branch word");
inline constexpr size_t kMaxBranchWords = 1 + 2 * kMaxSampleBranches;
}  // namespace internal

/// The largest record, in words.
inline constexpr size_t kMaxSampleWords = internal::kSampleHeaderWords + kMaxSamplePcs + internal::kMaxBranchWords;

template <size_t kWords>
class SampleRing {
  static_assert(base::is_pow2(kWords), "capacity must be a power of two: indices wrap by masking");
  // At least one largest sample without branches (tests use rings that
  // small); the kernel's CpuRing holds thousands of the largest with them.
  static_assert(kWords >= internal::kSampleHeaderWords + kMaxSamplePcs, "the ring must hold one largest stack");

 public:
  constexpr SampleRing() = default;

  /// Starts both word counters at `initial_index` instead of 0, so tests can
  /// cross the 2^64 counter wrap. Behaves like an empty ring otherwise.
  constexpr explicit SampleRing(uint64_t initial_index) : head_(initial_index), tail_(initial_index) {}

  SampleRing(const SampleRing&) = delete;
  SampleRing& operator=(const SampleRing&) = delete;

  static constexpr size_t capacity_words() { return kWords; }

  /// Producer (the CPU's sample handler) only. Appends a sample of `n` pcs
  /// (cut to kMaxSamplePcs, with sample_flags::kTruncated set) and
  /// `n_branches` LBR records (the newest kMaxSampleBranches kept; none
  /// for a sample without the LBR). False when the
  /// ring lacks room, or when called while another push() on this ring is
  /// in progress (an NMI landing in the timer-path sampler): the sample is
  /// dropped and counted, never written over unread data.
  bool push(const SampleHeader& h, const uint64_t* pcs, size_t n, const SampleBranch* branches = nullptr,
            size_t n_branches = 0) {
    // A second producer entering on the same CPU (the only way to get two:
    // the ring is per-CPU) would interleave its words with the first's.
    // Acquire/release keep our word stores inside the claimed window; only
    // this CPU contends, so the exchange never spins.
    if (producing_.exchange(true, base::MemoryOrder::kAcquire)) {
      dropped_busy_.store(dropped_busy_.load(base::MemoryOrder::kRelaxed) + 1, base::MemoryOrder::kRelaxed);
      return false;
    }
    uint16_t flags = h.flags;
    if (n > kMaxSamplePcs) {
      n = kMaxSamplePcs;
      flags |= sample_flags::kTruncated;
    }
    if (branches == nullptr || n_branches == 0) {
      n_branches = 0;
      flags &= static_cast<uint16_t>(~sample_flags::kBranches);
    } else {
      if (n_branches > kMaxSampleBranches) n_branches = kMaxSampleBranches;
      flags |= sample_flags::kBranches;
    }
    const uint64_t branch_words = n_branches == 0 ? 0 : 1 + 2 * n_branches;
    const uint64_t words = internal::kSampleHeaderWords + n + branch_words;
    // Relaxed: only the producer writes tail_.
    const uint64_t tail = tail_.load(base::MemoryOrder::kRelaxed);
    // Acquire pairs with pop()'s release of head_: words the reader has
    // released were read before, so overwriting them below cannot race.
    const uint64_t head = head_.load(base::MemoryOrder::kAcquire);
    bool ok = kWords - (tail - head) >= words;
    if (ok) {
      put(tail + 0, uint64_t{static_cast<uint8_t>(n)} | (uint64_t{h.event} << 8) | (uint64_t{flags} << 16) |
                        (uint64_t{h.cpu} << 32));
      put(tail + 1, h.tid);
      put(tail + 2, h.timestamp);
      for (size_t i = 0; i < n; ++i) put(tail + internal::kSampleHeaderWords + i, pcs[i]);
      if (n_branches != 0) {
        const uint64_t b = tail + internal::kSampleHeaderWords + n;
        uint64_t mispredicted = 0;
        for (size_t i = 0; i < n_branches; ++i) {
          if (branches[i].mispredicted) mispredicted |= uint64_t{1} << i;
          put(b + 1 + 2 * i, branches[i].from);
          put(b + 2 + 2 * i, branches[i].to);
        }
        put(b, n_branches | (mispredicted << 32));
      }
      // Release publishes the words above: a reader that acquires the new
      // tail_ sees the whole record, never a slot's previous contents.
      tail_.store(tail + words, base::MemoryOrder::kRelease);
      accepted_.store(accepted_.load(base::MemoryOrder::kRelaxed) + 1, base::MemoryOrder::kRelaxed);
    } else {
      // Producer-only counter: a plain increment, published relaxed (the
      // reader wants a count, not an ordering).
      dropped_full_.store(dropped_full_.load(base::MemoryOrder::kRelaxed) + 1, base::MemoryOrder::kRelaxed);
    }
    producing_.store(false, base::MemoryOrder::kRelease);
    return ok;
  }

  /// Reader only. Takes the oldest sample into `*out`; false when empty.
  bool pop(Sample* out) {
    // Relaxed: only the reader writes head_.
    const uint64_t head = head_.load(base::MemoryOrder::kRelaxed);
    // Acquire pairs with push()'s release of tail_: the record's words are
    // visible to the loads below.
    const uint64_t tail = tail_.load(base::MemoryOrder::kAcquire);
    if (tail == head) return false;
    const uint64_t words = read_record(head, tail, out);
    // Release orders the reads above before the producer can see the words
    // as free and reuse them.
    head_.store(head + words, base::MemoryOrder::kRelease);
    return true;
  }

  /// Reader only. Calls fn(const Sample&) for each stored sample, oldest
  /// first, without taking them: `prof top` and `prof dump` both read one
  /// profile. Sees the samples published when it starts; the producer may
  /// keep pushing meanwhile (it writes only past that point, and never over
  /// unread words). Returns how many it visited.
  template <typename Fn>
  size_t for_each(Fn&& fn) const {
    const uint64_t head = head_.load(base::MemoryOrder::kRelaxed);
    // Acquire pairs with push()'s release of tail_, as in pop().
    const uint64_t tail = tail_.load(base::MemoryOrder::kAcquire);
    size_t visited = 0;
    Sample s;
    for (uint64_t at = head; at != tail; ++visited) {
      at += read_record(at, tail, &s);
      fn(static_cast<const Sample&>(s));
    }
    return visited;
  }

  /// Reader only. Drops every stored sample (a new profile starts empty).
  void clear() { head_.store(tail_.load(base::MemoryOrder::kAcquire), base::MemoryOrder::kRelease); }

  /// Words in use: a snapshot, exact when neither side is running.
  size_t used_words() const {
    // head_ first: it never passes tail_, so a later tail_ is at least it.
    const uint64_t head = head_.load(base::MemoryOrder::kAcquire);
    const uint64_t tail = tail_.load(base::MemoryOrder::kAcquire);
    return static_cast<size_t>(tail - head);
  }
  bool empty() const { return used_words() == 0; }

  /// Samples stored since construction (popped or not).
  uint64_t accepted() const { return accepted_.load(base::MemoryOrder::kRelaxed); }
  /// Samples dropped because the ring was full.
  uint64_t dropped_full() const { return dropped_full_.load(base::MemoryOrder::kRelaxed); }
  /// Samples dropped because push() was re-entered on this CPU.
  uint64_t dropped_busy() const { return dropped_busy_.load(base::MemoryOrder::kRelaxed); }

 private:
  friend struct SampleRingTestPeer;
  static constexpr uint64_t kMask = kWords - 1;

  // Words are plain (non-atomic) memory: the head/tail protocol gives each
  // word to exactly one side at a time, and the acquire/release pairs above
  // order the hand-over.
  void put(uint64_t index, uint64_t v) { words_[index & kMask] = v; }

  // Decodes the record at word `at` (published words end at `tail`) into
  // `*out`; returns its length in words.
  uint64_t read_record(uint64_t at, uint64_t tail, Sample* out) const {
    const uint64_t w0 = get(at);
    const size_t n = static_cast<uint8_t>(w0);
    // push() never stores more; anything else is a corrupted ring, and
    // copying it would overrun out->pcs.
    ASSERT_MSG(n <= kMaxSamplePcs && n + internal::kSampleHeaderWords <= tail - at,
               "sample record longer than its ring allows");
    out->header.event = static_cast<uint8_t>(w0 >> 8);
    out->header.flags = static_cast<uint16_t>(w0 >> 16);
    out->header.cpu = static_cast<uint32_t>(w0 >> 32);
    out->header.tid = get(at + 1);
    out->header.timestamp = get(at + 2);
    out->n_pcs = static_cast<uint8_t>(n);
    for (size_t i = 0; i < n; ++i) out->pcs[i] = get(at + internal::kSampleHeaderWords + i);
    out->n_branches = 0;
    if ((out->header.flags & sample_flags::kBranches) == 0) return internal::kSampleHeaderWords + n;
    const uint64_t b = at + internal::kSampleHeaderWords + n;
    ASSERT_MSG(b < tail, "sample record longer than its ring allows");
    const uint64_t bw = get(b);
    const size_t nb = static_cast<uint8_t>(bw);
    ASSERT_MSG(nb >= 1 && nb <= kMaxSampleBranches && b + 1 + 2 * nb <= tail,
               "sample record's branches longer than its ring allows");
    for (size_t i = 0; i < nb; ++i)
      out->branches[i] = SampleBranch{get(b + 1 + 2 * i), get(b + 2 + 2 * i), ((bw >> (32 + i)) & 1) != 0};
    out->n_branches = static_cast<uint8_t>(nb);
    return internal::kSampleHeaderWords + n + 1 + 2 * nb;
  }
  uint64_t get(uint64_t index) const { return words_[index & kMask]; }

  // Free-running 64-bit word counters: tail_ - head_ is the fill level; at
  // any sample rate they do not wrap in the machine's lifetime, and the
  // arithmetic stays right if they do. Each on its own cache line: the
  // handler writes tail_ and the reader head_, possibly from different CPUs.
  alignas(64) base::Atomic<uint64_t> head_{0};  // next word to read; reader only
  alignas(64) base::Atomic<uint64_t> tail_{0};  // next word to fill; producer only
  base::Atomic<bool> producing_{false};
  base::Atomic<uint64_t> accepted_{0};
  base::Atomic<uint64_t> dropped_full_{0};
  base::Atomic<uint64_t> dropped_busy_{0};
  alignas(64) uint64_t words_[kWords] = {};
};

}  // namespace prof
