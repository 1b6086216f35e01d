// Tests for SpscRing: FIFO order, full and empty edges, the 2^32 counter
// wrap, and a two-thread producer/consumer stress run (also meant for
// -fsanitize=thread, which checks the acquire/release pairing).
#include "src/base/spsc_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>

namespace base {
namespace {

TEST(SpscRing, FifoOrder) {
  SpscRing<int, 8> r;
  EXPECT_EQ(r.capacity(), 8u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.push(i));
  EXPECT_EQ(r.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    int v = -1;
    ASSERT_TRUE(r.pop(&v));
    EXPECT_EQ(v, i);
  }
  EXPECT_TRUE(r.empty());
}

TEST(SpscRing, EmptyPopLeavesOutputAlone) {
  SpscRing<int, 4> r;
  int v = 42;
  EXPECT_FALSE(r.pop(&v));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(r.push(1));
  EXPECT_TRUE(r.pop(&v));
  EXPECT_FALSE(r.pop(&v));
  EXPECT_EQ(v, 1);
}

TEST(SpscRing, FullRejectsAndKeepsContents) {
  SpscRing<uint8_t, 4> r;
  for (uint8_t i = 0; i < 4; ++i) EXPECT_TRUE(r.push(i));
  EXPECT_EQ(r.size(), 4u);
  EXPECT_FALSE(r.push(99));
  EXPECT_EQ(r.size(), 4u);
  uint8_t v = 0;
  ASSERT_TRUE(r.pop(&v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(r.push(4)) << "one slot freed, one push fits";
  EXPECT_FALSE(r.push(5));
  for (uint8_t want = 1; want <= 4; ++want) {
    ASSERT_TRUE(r.pop(&v));
    EXPECT_EQ(v, want);
  }
  EXPECT_FALSE(r.pop(&v));
}

TEST(SpscRing, CapacityOne) {
  SpscRing<int, 1> r;
  EXPECT_TRUE(r.push(7));
  EXPECT_FALSE(r.push(8));
  int v = 0;
  EXPECT_TRUE(r.pop(&v));
  EXPECT_EQ(v, 7);
  EXPECT_FALSE(r.pop(&v));
}

// Counters start just below 2^32, so the full and empty checks and the slot
// index all cross the wrap.
TEST(SpscRing, WrapsPastTwoToThe32) {
  for (uint32_t start : {0xffff'fff0u, 0xffff'fffcu, 0xffff'ffffu}) {
    SCOPED_TRACE(start);
    SpscRing<uint32_t, 8> r(start);
    EXPECT_TRUE(r.empty());
    uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 10; ++round) {
      while (r.push(next_in)) ++next_in;  // fill to full
      EXPECT_EQ(r.size(), 8u);
      for (int i = 0; i < 5; ++i) {  // drain part, so fill level shifts
        uint32_t v;
        ASSERT_TRUE(r.pop(&v));
        EXPECT_EQ(v, next_out++);
      }
      EXPECT_EQ(r.size(), 3u);
    }
    uint32_t v;
    while (r.pop(&v)) EXPECT_EQ(v, next_out++);
    EXPECT_EQ(next_out, next_in);
    EXPECT_TRUE(r.empty());
  }
}

struct Event {
  uint32_t seq;
  uint32_t check;  // seq ^ kCheck: a torn or stale slot read shows up
};
constexpr uint32_t kCheck = 0x5a5a'a5a5;

void stress(uint32_t start) {
  constexpr uint32_t kCount = 1'000'000;
  auto ring = std::make_unique<SpscRing<Event, 64>>(start);
  std::thread producer([&] {
    for (uint32_t i = 0; i < kCount;) {
      if (ring->push(Event{i, i ^ kCheck})) {
        ++i;
      } else {
        std::this_thread::yield();  // full: an interrupt handler would drop; we retry
      }
    }
  });
  // Drains all kCount even after a mismatch, so the producer never waits
  // on a full ring forever; reports the first mismatch only.
  uint32_t want = 0, bad = 0;
  while (want < kCount) {
    Event e;
    if (!ring->pop(&e)) {
      std::this_thread::yield();
      continue;
    }
    if ((e.seq != want || e.check != (want ^ kCheck)) && bad++ == 0) {
      ADD_FAILURE() << "got " << e.seq << " want " << want;
    }
    ++want;
  }
  producer.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_TRUE(ring->empty());
}

TEST(SpscRing, TwoThreadStress) { stress(0); }
TEST(SpscRing, TwoThreadStressAcrossTheWrap) { stress(0xffff'ffffu - 500'000); }

}  // namespace
}  // namespace base
