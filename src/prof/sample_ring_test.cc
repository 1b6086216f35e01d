// Tests for SampleRing: samples come back whole and in order, records that
// straddle the end of the array, the 2^64 counter wrap, drop counting when
// full or re-entered, and a two-thread producer/consumer stress run (also
// meant for --config=tsan, which checks the acquire/release pairing).
#include "src/prof/sample_ring.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace prof {

// Holds a ring as an interrupted push() would.
struct SampleRingTestPeer {
  template <size_t kWords>
  static void set_producing(SampleRing<kWords>& r, bool v) {
    r.producing_.store(v, base::MemoryOrder::kRelaxed);
  }
};

namespace {

// A sample whose every field derives from `seq`, so a torn, stale or
// misordered record shows up as a mismatch.
SampleHeader header_for(uint64_t seq) {
  SampleHeader h;
  h.cpu = static_cast<uint32_t>(seq % 7);
  h.tid = seq * 3 + 1;
  h.timestamp = seq * 1000;
  h.flags = sample_flags::make(static_cast<SampleMode>(seq % 3), seq % 2 == 1);
  if (seq % 8 != 0) h.flags = sample_flags::with_walk_end(h.flags, static_cast<WalkEnd>(seq % 8 - 1));
  h.event = static_cast<uint8_t>(seq % 5);
  return h;
}
size_t depth_for(uint64_t seq) { return 1 + seq % kMaxSamplePcs; }
uint64_t pc_for(uint64_t seq, size_t i) { return 0xffff'ffff'8000'0000 + seq * 64 + i; }

template <size_t kWords>
bool push_seq(SampleRing<kWords>& r, uint64_t seq) {
  uint64_t pcs[kMaxSamplePcs];
  const size_t n = depth_for(seq);
  for (size_t i = 0; i < n; ++i) pcs[i] = pc_for(seq, i);
  return r.push(header_for(seq), pcs, n);
}

// Empty string when `s` is sample `seq`; otherwise what differs.
std::string mismatch(const Sample& s, uint64_t seq) {
  const SampleHeader want = header_for(seq);
  if (s.header.cpu != want.cpu) return "cpu";
  if (s.header.tid != want.tid) return "tid";
  if (s.header.timestamp != want.timestamp) return "timestamp";
  if (s.header.flags != want.flags) return "flags";
  if (s.header.event != want.event) return "event";
  if (s.n_pcs != depth_for(seq)) return "n_pcs";
  for (size_t i = 0; i < s.n_pcs; ++i)
    if (s.pcs[i] != pc_for(seq, i)) return "pc " + std::to_string(i);
  return "";
}

TEST(SampleRing, SamplesComeBackWholeAndInOrder) {
  SampleRing<1024> r;
  EXPECT_TRUE(r.empty());
  for (uint64_t seq = 0; seq < 10; ++seq) ASSERT_TRUE(push_seq(r, seq));
  for (uint64_t seq = 0; seq < 10; ++seq) {
    Sample s;
    ASSERT_TRUE(r.pop(&s));
    EXPECT_EQ(mismatch(s, seq), "") << "sample " << seq;
  }
  Sample s;
  EXPECT_FALSE(r.pop(&s));
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.accepted(), 10u);
  EXPECT_EQ(r.dropped_full(), 0u);
}

TEST(SampleRing, ForEachReadsWithoutTakingAndClearEmpties) {
  SampleRing<256> r;  // small: records straddle the end after a few rounds
  uint64_t next = 0, oldest = 0;
  for (int round = 0; round < 20; ++round) {
    while (push_seq(r, next)) ++next;
    uint64_t seq = oldest;
    const size_t visited = r.for_each([&](const Sample& s) { EXPECT_EQ(mismatch(s, seq++), "") << seq - 1; });
    EXPECT_EQ(visited, next - oldest);
    EXPECT_EQ(seq, next);
    // Nothing was taken: a second pass sees the same, and so does pop().
    EXPECT_EQ(r.for_each([](const Sample&) {}), visited);
    Sample s;
    ASSERT_TRUE(r.pop(&s));
    EXPECT_EQ(mismatch(s, oldest), "");
    ++oldest;
    if (round % 5 == 4) {
      r.clear();
      EXPECT_TRUE(r.empty());
      EXPECT_EQ(r.for_each([](const Sample&) { ADD_FAILURE() << "a cleared ring has no samples"; }), 0u);
      oldest = next;
    }
  }
}

TEST(SampleRing, FlagsRoundTrip) {
  uint16_t f = sample_flags::make(SampleMode::kIdle, true);
  EXPECT_EQ(sample_flags::mode(f), SampleMode::kIdle);
  EXPECT_TRUE(sample_flags::user(f));
  WalkEnd e = WalkEnd::kZeroFrame;
  EXPECT_FALSE(sample_flags::walk_end(f, &e)) << "no walk recorded yet";
  for (int v = 0; v <= static_cast<int>(prof::kLastWalkEnd); ++v) {
    const WalkEnd want = static_cast<WalkEnd>(v);
    f = sample_flags::with_walk_end(f, want);
    ASSERT_TRUE(sample_flags::walk_end(f, &e));
    EXPECT_EQ(e, want);
    EXPECT_EQ(sample_flags::mode(f), SampleMode::kIdle);
    EXPECT_TRUE(sample_flags::user(f));
  }
  EXPECT_EQ(f & sample_flags::kTruncated, 0);
  EXPECT_FALSE(sample_flags::user(sample_flags::make(SampleMode::kThread, false)));
}

TEST(SampleRing, DeepStackIsCutAndMarked) {
  SampleRing<256> r;
  uint64_t pcs[kMaxSamplePcs + 10];
  for (size_t i = 0; i < kMaxSamplePcs + 10; ++i) pcs[i] = i;
  ASSERT_TRUE(r.push(SampleHeader{}, pcs, kMaxSamplePcs + 10));
  Sample s;
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(s.n_pcs, kMaxSamplePcs);
  EXPECT_NE(s.header.flags & sample_flags::kTruncated, 0);
  EXPECT_EQ(s.pcs[kMaxSamplePcs - 1], kMaxSamplePcs - 1);
}

TEST(SampleRing, EmptyStackIsAllowed) {
  SampleRing<64> r;
  ASSERT_TRUE(r.push(header_for(4), nullptr, 0));
  EXPECT_EQ(r.used_words(), 3u);
  Sample s;
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(s.n_pcs, 0);
  EXPECT_EQ(s.header.tid, header_for(4).tid);
}

// A full ring refuses the sample that does not fit, counts it, keeps every
// stored one intact, and takes samples again once the reader frees room.
TEST(SampleRing, FullRingDropsAndCounts) {
  SampleRing<64> r;                             // largest record is 36 words: one fits, two do not
  ASSERT_TRUE(push_seq(r, kMaxSamplePcs - 1));  // 33 pcs: 36 words
  EXPECT_EQ(r.used_words(), 36u);
  EXPECT_FALSE(push_seq(r, kMaxSamplePcs - 1)) << "36 more words do not fit in 28";
  EXPECT_FALSE(push_seq(r, 25)) << "26 pcs + 3 = 29 words do not fit in 28";
  EXPECT_EQ(r.dropped_full(), 2u);
  ASSERT_TRUE(push_seq(r, 24)) << "25 pcs + 3 = 28 words fill it exactly";
  EXPECT_EQ(r.used_words(), 64u);
  EXPECT_FALSE(push_seq(r, 0)) << "not even a 1-pc sample";
  EXPECT_EQ(r.dropped_full(), 3u);
  EXPECT_EQ(r.accepted(), 2u);

  Sample s;
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(mismatch(s, kMaxSamplePcs - 1), "");
  ASSERT_TRUE(push_seq(r, 40)) << "room again after a pop";
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(mismatch(s, 24), "");
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(mismatch(s, 40), "");
  EXPECT_FALSE(r.pop(&s));
}

// Records of every length cross the end of the array at every offset; the
// word counters start near 2^64 so the counter wrap is crossed too.
TEST(SampleRing, RecordsStraddleTheEndAndCountersWrap) {
  for (uint64_t start : {uint64_t{0}, uint64_t{5}, ~uint64_t{0} - 300, ~uint64_t{0}}) {
    SCOPED_TRACE(start);
    SampleRing<128> r(start);
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 200; ++round) {
      while (push_seq(r, next_in)) ++next_in;  // fill until one does not fit
      for (int i = 0; i < 2; ++i) {            // then drain a little
        Sample s;
        ASSERT_TRUE(r.pop(&s));
        ASSERT_EQ(mismatch(s, next_out), "") << "sample " << next_out;
        ++next_out;
      }
    }
    Sample s;
    while (r.pop(&s)) {
      ASSERT_EQ(mismatch(s, next_out), "") << "sample " << next_out;
      ++next_out;
    }
    EXPECT_EQ(next_out, next_in);
    EXPECT_EQ(r.accepted(), next_in);
    EXPECT_EQ(r.dropped_full(), 200u) << "one refused push per round";
    EXPECT_TRUE(r.empty());
  }
}

// An NMI landing inside the reader's pop() on the same CPU: simulated by
// pushing between the reader's view of a record and its release. The reader's
// record must stay intact and the new sample must land after it.
TEST(SampleRing, ProducerBetweenReadsNeverTouchesUnreleasedRecord) {
  SampleRing<64> r;
  ASSERT_TRUE(push_seq(r, 30));  // 31 pcs: 34 words
  // Fill the rest as the NMI would while the reader holds sample 30.
  ASSERT_TRUE(push_seq(r, 26));  // 27 pcs: 30 words: exactly full
  EXPECT_FALSE(push_seq(r, 0)) << "the reader's unreleased words are not free";
  Sample s;
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(mismatch(s, 30), "");
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(mismatch(s, 26), "");
}

// Re-entering push() (an NMI landing in the timer-path sampler on the same
// CPU) drops the inner sample instead of interleaving its words with the
// outer one's. The peer holds the ring as the outer push() does.
TEST(SampleRing, ReenteredPushDropsAndCounts) {
  SampleRing<256> r;
  ASSERT_TRUE(push_seq(r, 1));
  SampleRingTestPeer::set_producing(r, true);
  EXPECT_FALSE(push_seq(r, 2));
  EXPECT_EQ(r.dropped_busy(), 1u);
  EXPECT_EQ(r.dropped_full(), 0u);
  SampleRingTestPeer::set_producing(r, false);
  ASSERT_TRUE(push_seq(r, 3));
  Sample s;
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(mismatch(s, 1), "");
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(mismatch(s, 3), "");
  EXPECT_FALSE(r.pop(&s));
}

// One "CPU": the reader loops in this thread and a 20 us interval timer's
// signal plays the NMI, pushing into the same ring wherever the reader is --
// often in the middle of pop(). Every sample read must be whole and in
// order, and accepted + dropped must equal the handler's attempts.
SampleRing<256>* g_signal_ring;
std::atomic<uint64_t> g_signal_attempts{0};

void push_from_signal(int) {
  const int saved_errno = errno;
  const uint64_t seq = g_signal_attempts.load(std::memory_order_relaxed);
  (void)push_seq(*g_signal_ring, seq);
  g_signal_attempts.store(seq + 1, std::memory_order_relaxed);
  errno = saved_errno;
}

TEST(SampleRing, SignalInterruptingTheReaderOnOneThread) {
  auto ring = std::make_unique<SampleRing<256>>();
  g_signal_ring = ring.get();
  g_signal_attempts.store(0);
  struct sigaction sa = {};
  sa.sa_handler = push_from_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_sa;
  ASSERT_EQ(sigaction(SIGALRM, &sa, &old_sa), 0);
  const itimerval every_20us = {{0, 20}, {0, 20}};
  ASSERT_EQ(setitimer(ITIMER_REAL, &every_20us, nullptr), 0);

  constexpr uint64_t kAttempts = 5'000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  uint64_t got = 0, bad = 0;
  int64_t last = -1;
  auto check = [&](const Sample& s) {
    const uint64_t seq = s.header.timestamp / 1000;
    if ((static_cast<int64_t>(seq) <= last || !mismatch(s, seq).empty()) && bad++ == 0) {
      ADD_FAILURE() << "sample " << seq << " after " << last << ": " << mismatch(s, seq);
    }
    last = static_cast<int64_t>(seq);
    ++got;
  };
  while (g_signal_attempts.load(std::memory_order_relaxed) < kAttempts && std::chrono::steady_clock::now() < deadline) {
    Sample s;
    if (ring->pop(&s)) check(s);
  }
  const itimerval off = {};
  ASSERT_EQ(setitimer(ITIMER_REAL, &off, nullptr), 0);
  ASSERT_EQ(sigaction(SIGALRM, &old_sa, nullptr), 0);
  Sample s;
  while (ring->pop(&s)) check(s);

  EXPECT_EQ(bad, 0u);
  EXPECT_GT(got, 0u);
  EXPECT_EQ(got, ring->accepted());
  EXPECT_EQ(ring->accepted() + ring->dropped_full(), g_signal_attempts.load());
  EXPECT_EQ(ring->dropped_busy(), 0u);
}

// One producer thread (the NMI handler) and one reader thread. The producer
// drops when full, as the handler would; every sample the reader gets must
// be whole and in order, and accepted + dropped must equal what was pushed.
void stress(uint64_t start) {
  constexpr uint64_t kCount = 300'000;
  auto ring = std::make_unique<SampleRing<512>>(start);
  std::atomic<bool> done{false};
  uint64_t pushed_ok = 0;
  std::thread producer([&] {
    for (uint64_t seq = 0; seq < kCount; ++seq) {
      // seq numbers skip the dropped ones; the reader checks strictly
      // increasing order and whole contents.
      if (push_seq(*ring, seq)) ++pushed_ok;
      if (seq % 64 == 0) std::this_thread::yield();
    }
    done.store(true, std::memory_order_release);
  });
  uint64_t got = 0, bad = 0;
  int64_t last = -1;
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    Sample s;
    bool any = false;
    while (ring->pop(&s)) {
      any = true;
      // Recover seq from the timestamp, then check every other field.
      const uint64_t seq = s.header.timestamp / 1000;
      if ((static_cast<int64_t>(seq) <= last || !mismatch(s, seq).empty()) && bad++ == 0) {
        ADD_FAILURE() << "sample " << seq << " after " << last << ": " << mismatch(s, seq);
      }
      last = static_cast<int64_t>(seq);
      ++got;
    }
    if (finished && !any) break;
    if (!any) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(got, pushed_ok);
  EXPECT_EQ(ring->accepted(), pushed_ok);
  EXPECT_EQ(ring->accepted() + ring->dropped_full(), kCount);
  EXPECT_EQ(ring->dropped_busy(), 0u);
  EXPECT_GT(got, 0u);
  EXPECT_TRUE(ring->empty());
}

TEST(SampleRing, TwoThreadStress) { stress(0); }
TEST(SampleRing, TwoThreadStressAcrossTheCounterWrap) { stress(~uint64_t{0} - 100'000); }

// LBR stacks ride along: from, to and the mispredicted bit of each branch
// come back in order, also across the end of the array; more than
// kMaxSampleBranches keep the newest; a sample without any carries none
// (and no kBranches flag, whatever the caller's flags said).
TEST(SampleRing, BranchesRoundTripAcrossTheEnd) {
  SampleRing<256> r;
  SampleBranch br[kMaxSampleBranches + 3];
  for (size_t i = 0; i < kMaxSampleBranches + 3; ++i)
    br[i] = SampleBranch{0xffff'ffff'8010'0000 + 16 * i, 0xffff'ffff'8020'0000 + 16 * i, i % 3 == 1};
  const uint64_t pcs[2] = {0xffff'ffff'8000'1000, 0xffff'ffff'8000'2000};
  Sample s;
  // Rounds of growing records walk the straddle point through every offset.
  for (int round = 0; round < 40; ++round) {
    const size_t nb = 1 + static_cast<size_t>(round) % (kMaxSampleBranches + 3);
    SampleHeader h = header_for(static_cast<uint64_t>(round));
    ASSERT_TRUE(r.push(h, pcs, 2, br, nb));
    ASSERT_TRUE(r.push(h, pcs, 1));  // and one without, between them
    ASSERT_TRUE(r.pop(&s));
    const size_t kept = nb > kMaxSampleBranches ? kMaxSampleBranches : nb;
    ASSERT_EQ(s.n_pcs, 2u);
    EXPECT_EQ(s.pcs[1], pcs[1]);
    ASSERT_EQ(s.n_branches, kept) << "round " << round;
    EXPECT_NE(s.header.flags & sample_flags::kBranches, 0);
    for (size_t i = 0; i < kept; ++i) EXPECT_EQ(s.branches[i], br[i]) << "round " << round << " branch " << i;
    ASSERT_TRUE(r.pop(&s));
    EXPECT_EQ(s.n_branches, 0u);
    EXPECT_EQ(s.n_pcs, 1u);
    EXPECT_EQ(s.header.flags & sample_flags::kBranches, 0);
  }
  SampleHeader flagged = header_for(1);
  flagged.flags |= sample_flags::kBranches;
  ASSERT_TRUE(r.push(flagged, pcs, 1, br, 0));
  ASSERT_TRUE(r.pop(&s));
  EXPECT_EQ(s.n_branches, 0u);
  EXPECT_EQ(s.header.flags & sample_flags::kBranches, 0);
  EXPECT_TRUE(r.empty());
  // A full-size record fits a ring of kMaxSampleWords exactly.
  SampleRing<128> small;
  uint64_t many[kMaxSamplePcs] = {};
  ASSERT_TRUE(small.push(header_for(2), many, kMaxSamplePcs, br, kMaxSampleBranches));
  EXPECT_EQ(small.used_words(), kMaxSampleWords);
}

}  // namespace
}  // namespace prof
