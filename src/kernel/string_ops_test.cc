// The kernel's memcpy/memmove/memset/memcmp against a byte-at-a-time model:
// every length around the eight-byte step, every alignment, and overlaps in
// both directions at every distance (a word copy must never read what it
// has already written).
#include "src/kernel/string_ops.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace kernel {
namespace {

constexpr size_t kArena = 96;

std::vector<uint8_t> numbered() {
  std::vector<uint8_t> v(kArena);
  for (size_t i = 0; i < kArena; ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
  return v;
}

TEST(StringOps, CopyEveryLengthAndAlignment) {
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t from = 0; from < 8; ++from) {
      for (size_t to = 0; to < 8; ++to) {
        std::vector<uint8_t> src = numbered(), dst(kArena, 0xee), want(kArena, 0xee);
        for (size_t i = 0; i < n; ++i) want[40 + to + i] = src[from + i];
        EXPECT_EQ(copy_bytes(&dst[40 + to], &src[from], n), &dst[40 + to]);
        ASSERT_EQ(dst, want) << "n=" << n << " from=" << from << " to=" << to;
      }
    }
  }
}

TEST(StringOps, MoveOverlappingBothWaysAtEveryDistance) {
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t dst_at = 0; dst_at <= 24; ++dst_at) {
      const size_t src_at = 12;  // dst below, equal to and above src
      std::vector<uint8_t> buf = numbered(), want = numbered();
      std::vector<uint8_t> model(want.begin() + src_at, want.begin() + src_at + n);
      for (size_t i = 0; i < n; ++i) want[dst_at + i] = model[i];
      EXPECT_EQ(move_bytes(&buf[dst_at], &buf[src_at], n), &buf[dst_at]);
      ASSERT_EQ(buf, want) << "n=" << n << " dst=" << dst_at << " src=" << src_at;
    }
  }
}

TEST(StringOps, FillEveryLengthWithEveryKindOfByte) {
  for (int c : {0, 1, 0x6b, 0x80, 0xff, 0x1234 /* only the low byte counts */}) {
    for (size_t n = 0; n <= 40; ++n) {
      for (size_t at = 0; at < 8; ++at) {
        std::vector<uint8_t> buf = numbered(), want = numbered();
        for (size_t i = 0; i < n; ++i) want[at + i] = static_cast<uint8_t>(c);
        EXPECT_EQ(fill_bytes(&buf[at], c, n), &buf[at]);
        ASSERT_EQ(buf, want) << "c=" << c << " n=" << n << " at=" << at;
      }
    }
  }
}

TEST(StringOps, CompareIsUnsignedAndStopsAtTheFirstDifference) {
  const uint8_t a[] = {1, 2, 3, 0x80};
  const uint8_t b[] = {1, 2, 3, 0x7f};
  const uint8_t c[] = {1, 9, 0, 0};
  EXPECT_EQ(compare_bytes(a, a, 4), 0);
  EXPECT_EQ(compare_bytes(a, b, 4), 1);  // 0x80 > 0x7f as unsigned char
  EXPECT_EQ(compare_bytes(b, a, 4), -1);
  EXPECT_EQ(compare_bytes(a, c, 4), -1);
  EXPECT_EQ(compare_bytes(a, b, 3), 0);
  EXPECT_EQ(compare_bytes(a, b, 0), 0);
}

}  // namespace
}  // namespace kernel
