#include "src/prof/backtrace.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

using prof::StackBounds;
using prof::WalkEnd;

// A simulated stack at a fake address range; frames are (saved rbp, return).
class FakeStack {
 public:
  static constexpr uint64_t kBase = 0x10000;
  FakeStack() : words_(512, 0) {}
  void frame(uint64_t at, uint64_t saved_rbp, uint64_t ret) {
    words_[(at - kBase) / 8] = saved_rbp;
    words_[(at - kBase) / 8 + 1] = ret;
  }
  StackBounds bounds() const { return {kBase, kBase + words_.size() * 8}; }
  uint64_t read(uint64_t addr) const { return words_.at((addr - kBase) / 8); }

 private:
  std::vector<uint64_t> words_;
};

size_t walk(const FakeStack& s, uint64_t rbp, uint64_t* pcs, size_t max, WalkEnd* end) {
  return prof::walk_frames(rbp, s.bounds(), pcs, max, end, [&](uint64_t a) { return s.read(a); });
}

TEST(Backtrace, WalksChainToZero) {
  FakeStack s;
  s.frame(0x10100, 0x10200, 0xaaa);
  s.frame(0x10200, 0x10300, 0xbbb);
  s.frame(0x10300, 0, 0xccc);
  uint64_t pcs[8];
  WalkEnd end;
  ASSERT_EQ(walk(s, 0x10100, pcs, 8, &end), 3u);
  EXPECT_EQ(pcs[0], 0xaaau);
  EXPECT_EQ(pcs[2], 0xcccu);
  EXPECT_EQ(end, WalkEnd::kZeroFrame);
}

TEST(Backtrace, StopsOnCorruptChains) {
  FakeStack s;
  uint64_t pcs[8];
  WalkEnd end;
  s.frame(0x10100, 0x10080, 0xaaa);  // points downwards: a loop or garbage
  EXPECT_EQ(walk(s, 0x10100, pcs, 8, &end), 1u);
  EXPECT_EQ(end, WalkEnd::kNotAscending);
  s.frame(0x10100, 0x99999990, 0xaaa);  // leaves the stack
  EXPECT_EQ(walk(s, 0x10100, pcs, 8, &end), 1u);
  EXPECT_EQ(end, WalkEnd::kOffStack);
  EXPECT_EQ(walk(s, 0x10103, pcs, 8, &end), 0u);
  EXPECT_EQ(end, WalkEnd::kMisaligned);
  EXPECT_EQ(walk(s, s.bounds().hi - 8, pcs, 8, &end), 0u) << "a frame needs 16 bytes on the stack";
  EXPECT_EQ(end, WalkEnd::kOffStack);
}

TEST(Backtrace, TruncatesAtCapacity) {
  FakeStack s;
  for (uint64_t f = 0x10100; f < 0x10800; f += 0x100) s.frame(f, f + 0x100, f);
  uint64_t pcs[3];
  WalkEnd end;
  EXPECT_EQ(walk(s, 0x10100, pcs, 3, &end), 3u);
  EXPECT_EQ(end, WalkEnd::kFull);
}

}  // namespace
