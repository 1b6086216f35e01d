#include "src/sched/saved_stack.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

// A fake stack: words at [kLo, kLo + 8 * kWords), read by address.
constexpr uint64_t kLo = 0x1000'0000;
constexpr size_t kWords = 64;

struct Stack {
  uint64_t w[kWords] = {};
  uint64_t addr(size_t i) const { return kLo + 8 * i; }
  uint64_t hi() const { return kLo + 8 * kWords; }
  // Reads outside the stack fail the test: the walker must never do them.
  auto reader() const {
    return [this](uint64_t a) {
      EXPECT_GE(a, kLo);
      EXPECT_LT(a, hi());
      EXPECT_EQ(a % 8, 0u);
      return (a >= kLo && a < hi()) ? w[(a - kLo) / 8] : 0;
    };
  }
};

// switch_context's frame at word 10, then two frames and the root (RBP 0).
Stack chain() {
  Stack s;
  s.w[10 + sched::kSavedRbpWord] = s.addr(20);
  s.w[10 + sched::kSavedReturnWord] = 0xaaa;
  s.w[20] = s.addr(30);  // caller's rbp
  s.w[21] = 0xbbb;       // return address
  s.w[30] = 0;           // the root
  s.w[31] = 0xccc;
  return s;
}

TEST(SavedStack, FollowsTheChainFromSwitchContextsFrame) {
  Stack s = chain();
  uint64_t pcs[8];
  ASSERT_EQ(sched::saved_stack_pcs(s.addr(10), kLo, s.hi(), s.reader(), pcs, 8), 3u);
  EXPECT_EQ(pcs[0], 0xaaau);
  EXPECT_EQ(pcs[1], 0xbbbu);
  EXPECT_EQ(pcs[2], 0xcccu);
}

TEST(SavedStack, StopsAtMax) {
  Stack s = chain();
  uint64_t pcs[2];
  EXPECT_EQ(sched::saved_stack_pcs(s.addr(10), kLo, s.hi(), s.reader(), pcs, 2), 2u);
}

TEST(SavedStack, ANewThreadsFrameEndsAtOnce) {
  Stack s;
  s.w[kWords - sched::kSwitchFrameWords + sched::kSavedReturnWord] = 0xddd;  // the trampoline; rbp 0
  uint64_t pcs[8];
  EXPECT_EQ(sched::saved_stack_pcs(s.addr(kWords - sched::kSwitchFrameWords), kLo, s.hi(), s.reader(), pcs, 8), 1u);
  EXPECT_EQ(pcs[0], 0xdddu);
}

TEST(SavedStack, RejectsASavedRspOutsideTheStackOrTooNearItsTop) {
  Stack s = chain();
  uint64_t pcs[8];
  EXPECT_EQ(sched::saved_stack_pcs(kLo - 8, kLo, s.hi(), s.reader(), pcs, 8), 0u);
  EXPECT_EQ(sched::saved_stack_pcs(s.hi(), kLo, s.hi(), s.reader(), pcs, 8), 0u);
  EXPECT_EQ(sched::saved_stack_pcs(s.addr(kWords - 3), kLo, s.hi(), s.reader(), pcs, 8), 0u);
  EXPECT_EQ(sched::saved_stack_pcs(s.addr(10) + 4, kLo, s.hi(), s.reader(), pcs, 8), 0u);
}

// Garbage (a thread that ran on while it was read): frames that point down,
// loop, leave the stack or are misaligned end the walk without a bad read.
TEST(SavedStack, GarbageEndsTheWalkWithoutReadingOutside) {
  uint64_t pcs[8];
  for (uint64_t bad : {uint64_t{8} /* below */, kLo + 8 * 12 /* inside the switch frame */, kLo + 8 * 20 + 4,
                       kLo + 8 * kWords - 8 /* frame crosses the top */, kLo + 8 * kWords + 64}) {
    Stack s = chain();
    s.w[20] = bad;
    EXPECT_EQ(sched::saved_stack_pcs(s.addr(10), kLo, s.hi(), s.reader(), pcs, 8), 2u) << bad;
  }
  Stack loop = chain();
  loop.w[20] = loop.addr(20);  // points at itself
  EXPECT_EQ(sched::saved_stack_pcs(loop.addr(10), kLo, loop.hi(), loop.reader(), pcs, 8), 2u);
}

}  // namespace
