#include "src/prof/unwind.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace {

using arch::TrapFrame;
using prof::StackBounds;
using prof::WalkEnd;

constexpr uint64_t kTrapReturn = 0xffffffff80001234;  // where trap_common's call returns

// Simulated memory: a few stacks at fake address ranges, each a vector of
// words. find_stack knows only these; read fails the test outside them, so
// a walk that reads anywhere else is caught.
class Memory {
 public:
  // Adds a stack [lo, lo + bytes).
  void add_stack(uint64_t lo, uint64_t bytes) { stacks_[lo] = std::vector<uint64_t>(bytes / 8, 0); }

  void write(uint64_t addr, uint64_t v) { *word(addr) = v; }

  // A frame at `at`: saved RBP, return address.
  void frame(uint64_t at, uint64_t saved_rbp, uint64_t ret) {
    write(at, saved_rbp);
    write(at + 8, ret);
  }

  // trap_dispatch's frame at `at` with the trap frame above it, as
  // trap_common and the CPU leave them: the interrupted RIP and RBP.
  void trap(uint64_t at, uint64_t rip, uint64_t rbp) {
    frame(at, rbp, kTrapReturn);
    uint64_t tf = at + prof::kTrapFrameAboveFrame;
    write(tf + offsetof(TrapFrame, rbp), rbp);
    write(tf + offsetof(TrapFrame, rip), rip);
  }

  bool find_stack(uint64_t addr, StackBounds* out) const {
    for (const auto& [lo, words] : stacks_) {
      if (addr >= lo && addr < lo + words.size() * 8) {
        *out = {lo, lo + words.size() * 8};
        return true;
      }
    }
    return false;
  }

  uint64_t read(uint64_t addr) const {
    StackBounds s;
    if (!find_stack(addr, &s) || s.hi - addr < 8 || addr % 8 != 0) {
      ADD_FAILURE() << "the walk read outside every stack, or misaligned, at " << std::hex << addr;
      return 0;
    }
    return stacks_.at(s.lo)[(addr - s.lo) / 8];
  }

  auto env() const {
    return prof::UnwindEnv{[this](uint64_t a, StackBounds* out) { return find_stack(a, out); },
                           [this](uint64_t a) { return read(a); }, kTrapReturn};
  }

 private:
  uint64_t* word(uint64_t addr) {
    StackBounds s;
    if (!find_stack(addr, &s) || s.hi - addr < 8) {
      ADD_FAILURE() << "no stack at " << std::hex << addr;
      static uint64_t sink;
      return &sink;
    }
    return &stacks_[s.lo][(addr - s.lo) / 8];
  }

  std::map<uint64_t, std::vector<uint64_t>> stacks_;
};

// Stacks: an IST stack (NMI or #PF) and a thread stack, apart in memory.
constexpr uint64_t kIst = 0x10000;
constexpr uint64_t kThread = 0x40000;
constexpr uint64_t kStackBytes = 0x2000;

struct Walk {
  std::vector<uint64_t> pcs;
  WalkEnd end;
};

Walk from_rbp(const Memory& m, uint64_t rbp, size_t max = 32) {
  std::vector<uint64_t> pcs(max);
  WalkEnd end;
  size_t n = prof::unwind_frames(m.env(), rbp, pcs.data(), 0, max, &end);
  pcs.resize(n);
  return {pcs, end};
}

using Pcs = std::vector<uint64_t>;

class Unwind : public ::testing::Test {
 protected:
  void SetUp() override {
    m.add_stack(kIst, kStackBytes);
    m.add_stack(kThread, kStackBytes);
  }
  Memory m;
};

TEST_F(Unwind, WalksOneStackToZero) {
  m.frame(kThread + 0x100, kThread + 0x200, 0xa);
  m.frame(kThread + 0x200, kThread + 0x300, 0xb);
  m.frame(kThread + 0x300, 0, 0xc);
  Walk w = from_rbp(m, kThread + 0x100);
  EXPECT_EQ(w.pcs, (Pcs{0xa, 0xb, 0xc}));
  EXPECT_EQ(w.end, WalkEnd::kZeroFrame);
}

// An entry that pushed 0 as its caller's return address (the APs' entry
// does, with RBP 0 above it): the root, not a pc.
TEST_F(Unwind, AZeroReturnAddressEndsTheWalkUnrecorded) {
  m.frame(kThread + 0x100, kThread + 0x200, 0xa);
  m.frame(kThread + 0x200, kThread + 0x300, 0);
  m.frame(kThread + 0x300, 0, 0xc);  // never reached
  Walk w = from_rbp(m, kThread + 0x100);
  EXPECT_EQ(w.pcs, (Pcs{0xa}));
  EXPECT_EQ(w.end, WalkEnd::kZeroFrame);
}

// An NMI handler on the IST stack: handler -> trap_dispatch -> trap frame
// -> the interrupted function on the thread stack -> its callers.
TEST_F(Unwind, CrossesFromIstThroughTrapFrameToThreadStack) {
  m.frame(kIst + 0x1000, kIst + 0x1040, 0xd15);  // the handler, called by trap_dispatch
  m.trap(kIst + 0x1040, /*rip=*/0xf00, /*rbp=*/kThread + 0x800);
  m.frame(kThread + 0x800, kThread + 0x900, 0xca11e4);
  m.frame(kThread + 0x900, 0, 0x70b);
  Walk w = from_rbp(m, kIst + 0x1000);
  EXPECT_EQ(w.pcs, (Pcs{0xd15, kTrapReturn, 0xf00, 0xca11e4, 0x70b}));
  EXPECT_EQ(w.end, WalkEnd::kZeroFrame);
}

TEST_F(Unwind, StartsFromTrapFrame) {
  m.frame(kThread + 0x800, kThread + 0x900, 0xca11e4);
  m.frame(kThread + 0x900, 0, 0x70b);
  TrapFrame f{};
  f.rip = 0xf00;
  f.rbp = kThread + 0x800;
  uint64_t pcs[8];
  WalkEnd end;
  size_t n = prof::unwind_trap(m.env(), f, pcs, 8, &end);
  EXPECT_EQ(Pcs(pcs, pcs + n), (Pcs{0xf00, 0xca11e4, 0x70b}));
  EXPECT_EQ(end, WalkEnd::kZeroFrame);
  EXPECT_EQ(prof::unwind_trap(m.env(), f, pcs, 0, &end), 0u);
  EXPECT_EQ(end, WalkEnd::kFull);
}

// A #PF (IST) taken inside a timer interrupt handler that interrupted
// thread code: IST -> trap frame -> thread stack (the timer handler) ->
// trap frame on the thread stack itself -> the interrupted thread code.
TEST_F(Unwind, NestedTrapsOnIstAndThreadStack) {
  m.frame(kIst + 0x1000, kIst + 0x1040, 0xfa117);  // the #PF handler
  m.trap(kIst + 0x1040, /*rip=*/0x71e4, /*rbp=*/kThread + 0x400);
  m.frame(kThread + 0x400, kThread + 0x440, 0x71d1);  // the timer handler
  // The timer's trap frame, above trap_dispatch's frame; the interrupted
  // function's frame lies above the trap frame.
  uint64_t timer_dispatch = kThread + 0x440;
  uint64_t interrupted = timer_dispatch + prof::kTrapFrameAboveFrame + sizeof(TrapFrame) + 0x20;
  m.trap(timer_dispatch, /*rip=*/0xc0de, /*rbp=*/interrupted);
  m.frame(interrupted, 0, 0x70b);
  Walk w = from_rbp(m, kIst + 0x1000);
  EXPECT_EQ(w.pcs, (Pcs{0xfa117, kTrapReturn, 0x71e4, 0x71d1, kTrapReturn, 0xc0de, 0x70b}));
  EXPECT_EQ(w.end, WalkEnd::kZeroFrame);
}

TEST_F(Unwind, StopsOnLoopsAndDescendingFrames) {
  m.frame(kThread + 0x100, kThread + 0x100, 0xa);  // points at itself
  Walk w = from_rbp(m, kThread + 0x100);
  EXPECT_EQ(w.pcs, (Pcs{0xa}));
  EXPECT_EQ(w.end, WalkEnd::kNotAscending);

  m.frame(kThread + 0x100, kThread + 0x200, 0xa);
  m.frame(kThread + 0x200, kThread + 0x100, 0xb);  // back down: a loop
  w = from_rbp(m, kThread + 0x100);
  EXPECT_EQ(w.pcs, (Pcs{0xa, 0xb}));
  EXPECT_EQ(w.end, WalkEnd::kNotAscending);

  m.frame(kThread + 0x100, kThread + 0x108, 0xa);  // overlaps its own frame
  w = from_rbp(m, kThread + 0x100);
  EXPECT_EQ(w.end, WalkEnd::kNotAscending);
}

TEST_F(Unwind, StopsOffEveryStack) {
  m.frame(kThread + 0x100, 0x99990000, 0xa);
  Walk w = from_rbp(m, kThread + 0x100);
  EXPECT_EQ(w.pcs, (Pcs{0xa}));
  EXPECT_EQ(w.end, WalkEnd::kOffStack);

  w = from_rbp(m, 0x99990000);
  EXPECT_TRUE(w.pcs.empty());
  EXPECT_EQ(w.end, WalkEnd::kOffStack);

  w = from_rbp(m, kThread + kStackBytes - 8);
  EXPECT_TRUE(w.pcs.empty()) << "a frame needs 16 bytes on its stack";
  EXPECT_EQ(w.end, WalkEnd::kOffStack);

  w = from_rbp(m, ~uint64_t{7});  // no overflow in the bounds check
  EXPECT_EQ(w.end, WalkEnd::kOffStack);
}

TEST_F(Unwind, StopsOnMisalignedFramePointer) {
  Walk w = from_rbp(m, kThread + 0x103);
  EXPECT_TRUE(w.pcs.empty());
  EXPECT_EQ(w.end, WalkEnd::kMisaligned);

  m.frame(kThread + 0x100, kThread + 0x204, 0xa);
  w = from_rbp(m, kThread + 0x100);
  EXPECT_EQ(w.pcs, (Pcs{0xa}));
  EXPECT_EQ(w.end, WalkEnd::kMisaligned);
}

TEST_F(Unwind, StopsOnStackSwitchOutsideTrapFrame) {
  // A plain return address, yet the saved RBP lies on the thread stack.
  m.frame(kIst + 0x1000, kThread + 0x800, 0xd15);
  m.frame(kThread + 0x800, 0, 0x70b);
  Walk w = from_rbp(m, kIst + 0x1000);
  EXPECT_EQ(w.pcs, (Pcs{0xd15}));
  EXPECT_EQ(w.end, WalkEnd::kBadStackSwitch);
}

TEST_F(Unwind, StopsOnTrapFrameBackToAStackAlreadyLeft) {
  // IST -> trap -> thread -> trap -> IST again: a loop through two stacks.
  m.frame(kIst + 0x1000, kIst + 0x1040, 0xd15);
  m.trap(kIst + 0x1040, 0xf00, kThread + 0x400);
  m.trap(kThread + 0x400, 0xf01, kIst + 0x1800);
  Walk w = from_rbp(m, kIst + 0x1000);
  EXPECT_EQ(w.pcs, (Pcs{0xd15, kTrapReturn, 0xf00, kTrapReturn, 0xf01}));
  EXPECT_EQ(w.end, WalkEnd::kBadStackSwitch);
}

TEST_F(Unwind, StopsAfterTooManyStacks) {
  // Trap frames chaining through more stacks than any CPU runs on.
  Memory many;
  constexpr uint64_t kStride = 0x10000;
  for (size_t i = 0; i <= prof::kMaxUnwindStacks; ++i) {
    uint64_t lo = 0x100000 + i * kStride;
    many.add_stack(lo, kStackBytes);
    many.trap(lo + 0x100, 0xf00 + i, lo + kStride + 0x100);
  }
  std::vector<uint64_t> pcs(64);
  WalkEnd end;
  size_t n = prof::unwind_frames(many.env(), 0x100100, pcs.data(), 0, pcs.size(), &end);
  EXPECT_EQ(n, 2 * prof::kMaxUnwindStacks);
  EXPECT_EQ(end, WalkEnd::kBadStackSwitch);
}

TEST_F(Unwind, StopsOnTrapFrameStraddlingStackEnd) {
  // trap_dispatch's frame fits, the trap frame above it does not.
  uint64_t at = kIst + kStackBytes - prof::kTrapFrameAboveFrame - sizeof(TrapFrame) + 8;
  m.frame(at, kThread + 0x800, kTrapReturn);
  m.frame(kThread + 0x800, 0, 0x70b);
  Walk w = from_rbp(m, at);
  EXPECT_EQ(w.pcs, (Pcs{kTrapReturn}));
  EXPECT_EQ(w.end, WalkEnd::kBadTrapFrame);

  // Exactly at the end is fine.
  at -= 8;
  m.trap(at, 0xf00, kThread + 0x800);
  w = from_rbp(m, at);
  EXPECT_EQ(w.pcs, (Pcs{kTrapReturn, 0xf00, 0x70b}));
  EXPECT_EQ(w.end, WalkEnd::kZeroFrame);
}

TEST_F(Unwind, StopsOnTrapFrameDisagreeingWithDispatchFrame) {
  m.trap(kIst + 0x1040, 0xf00, kThread + 0x800);
  m.write(kIst + 0x1040 + prof::kTrapFrameAboveFrame + offsetof(TrapFrame, rbp), kThread + 0x900);
  Walk w = from_rbp(m, kIst + 0x1040);
  EXPECT_EQ(w.pcs, (Pcs{kTrapReturn}));
  EXPECT_EQ(w.end, WalkEnd::kBadTrapFrame);
}

TEST_F(Unwind, StopsWhenTrapFrameRbpIsOnNoStack) {
  m.trap(kIst + 0x1040, 0xf00, 0x99990000);
  Walk w = from_rbp(m, kIst + 0x1040);
  EXPECT_EQ(w.pcs, (Pcs{kTrapReturn, 0xf00})) << "the interrupted RIP is still recorded";
  EXPECT_EQ(w.end, WalkEnd::kOffStack);
}

TEST_F(Unwind, StopsWhenInterruptedFrameIsBelowTrapFrameOnSameStack) {
  // Without IST the trap frame lies below the interrupted RSP, so the
  // interrupted RBP must lie above it.
  m.trap(kThread + 0x400, 0xf00, kThread + 0x400 + prof::kTrapFrameAboveFrame + 8);
  Walk w = from_rbp(m, kThread + 0x400);
  EXPECT_EQ(w.pcs, (Pcs{kTrapReturn, 0xf00}));
  EXPECT_EQ(w.end, WalkEnd::kNotAscending);
}

TEST_F(Unwind, TruncatesAtMax) {
  m.frame(kIst + 0x1000, kIst + 0x1040, 0xd15);
  m.trap(kIst + 0x1040, 0xf00, kThread + 0x800);
  m.frame(kThread + 0x800, 0, 0x70b);
  const Pcs all{0xd15, kTrapReturn, 0xf00};
  for (size_t max = 0; max < 4; ++max) {
    Walk w = from_rbp(m, kIst + 0x1000, max);
    EXPECT_EQ(w.pcs, Pcs(all.begin(), all.begin() + max));
    EXPECT_EQ(w.end, WalkEnd::kFull) << "max " << max;
  }
  Walk w = from_rbp(m, kIst + 0x1000, 4);
  EXPECT_EQ(w.end, WalkEnd::kZeroFrame);
}

TEST_F(Unwind, FollowsNoTrapFramesWithoutTrapReturn) {
  m.frame(kIst + 0x1000, kIst + 0x1040, 0xd15);
  m.trap(kIst + 0x1040, 0xf00, kThread + 0x800);
  auto env = m.env();
  env.trap_return = 0;
  uint64_t pcs[8];
  WalkEnd end;
  size_t n = prof::unwind_frames(env, kIst + 0x1000, pcs, 0, 8, &end);
  EXPECT_EQ(Pcs(pcs, pcs + n), (Pcs{0xd15, kTrapReturn}));
  EXPECT_EQ(end, WalkEnd::kBadStackSwitch);
}

TEST(WalkEnd, EveryValueHasAName) {
  for (int e = 0; e <= static_cast<int>(prof::kLastWalkEnd); ++e)
    EXPECT_STRNE(prof::walk_end_name(static_cast<WalkEnd>(e)), "?");
}

}  // namespace
