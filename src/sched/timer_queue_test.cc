// Tests for TimerQueue: ordering and FIFO ties, cancel of every kind of node
// and of non-members, expiry lists, and random operations checked against a
// std::map model and the tree's own invariants.
#include "src/sched/timer_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

namespace {

using sched::Timer;
using sched::TimerList;
using sched::TimerQueue;

std::vector<Timer*> drain(TimerList& list) {
  std::vector<Timer*> v;
  while (Timer* t = list.pop_front()) v.push_back(t);
  return v;
}

TEST(TimerQueue, EmptyQueue) {
  TimerQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.peek(), nullptr);
  EXPECT_EQ(q.next_deadline(), ~uint64_t{0});
  TimerList out;
  EXPECT_EQ(q.pop_expired(~uint64_t{0}, out), 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(q.verify());
}

TEST(TimerQueue, PopsInDeadlineOrderUpToNow) {
  TimerQueue q;
  Timer t[5];
  const uint64_t deadlines[5] = {50, 10, 40, 20, 30};
  for (int i = 0; i < 5; ++i) q.insert(t[i], deadlines[i]);
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.peek(), &t[1]);
  EXPECT_EQ(q.next_deadline(), 10u);
  EXPECT_TRUE(q.verify());

  TimerList out;
  EXPECT_EQ(q.pop_expired(9, out), 0u);
  EXPECT_EQ(q.pop_expired(30, out), 3u);  // deadline == now has expired
  std::vector<Timer*> fired = drain(out);
  EXPECT_EQ(fired, (std::vector<Timer*>{&t[1], &t[3], &t[4]}));
  EXPECT_FALSE(t[1].queued());
  EXPECT_FALSE(t[1].listed());
  EXPECT_EQ(q.next_deadline(), 40u);
  EXPECT_EQ(q.pop_expired(1000, out), 2u);
  EXPECT_EQ(drain(out), (std::vector<Timer*>{&t[2], &t[0]}));
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.verify());
}

TEST(TimerQueue, EqualDeadlinesFireInInsertionOrder) {
  TimerQueue q;
  Timer t[8];
  // Interleave two deadlines; within each, insertion order must hold.
  for (int i = 0; i < 8; ++i) q.insert(t[i], i % 2 == 0 ? 100 : 50);
  TimerList out;
  EXPECT_EQ(q.pop_expired(100, out), 8u);
  EXPECT_EQ(drain(out), (std::vector<Timer*>{&t[1], &t[3], &t[5], &t[7], &t[0], &t[2], &t[4], &t[6]}));
}

TEST(TimerQueue, ReinsertedTimerGoesBehindEqualDeadlines) {
  TimerQueue q;
  Timer a, b;
  q.insert(a, 5);
  q.insert(b, 5);
  EXPECT_TRUE(q.cancel(a));
  q.insert(a, 5);  // a new insertion: now after b
  EXPECT_EQ(q.peek(), &b);
}

TEST(TimerQueue, CancelMinLeafAndInnerNodes) {
  TimerQueue q;
  std::vector<std::unique_ptr<Timer>> t;
  for (int i = 0; i < 15; ++i) {
    t.push_back(std::make_unique<Timer>());
    q.insert(*t.back(), uint64_t(i) * 10);
  }
  ASSERT_TRUE(q.verify());
  // The minimum: the cached leftmost must move to the next one.
  EXPECT_TRUE(q.cancel(*t[0]));
  EXPECT_EQ(q.peek(), t[1].get());
  EXPECT_EQ(q.next_deadline(), 10u);
  EXPECT_TRUE(q.verify());
  // The maximum (a leaf), then two nodes from the middle of the order, which
  // in a 14-node red-black tree have children.
  EXPECT_TRUE(q.cancel(*t[14]));
  EXPECT_TRUE(q.verify());
  EXPECT_TRUE(q.cancel(*t[7]));
  EXPECT_TRUE(q.verify());
  EXPECT_TRUE(q.cancel(*t[3]));
  EXPECT_TRUE(q.verify());
  EXPECT_EQ(q.size(), 11u);
  TimerList out;
  EXPECT_EQ(q.pop_expired(~uint64_t{0}, out), 11u);
  std::vector<Timer*> expect;
  for (int i : {1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13}) expect.push_back(t[i].get());
  EXPECT_EQ(drain(out), expect);
}

TEST(TimerQueue, CancelOfNonMemberReturnsFalse) {
  TimerQueue q, other;
  Timer never, popped, cancelled, elsewhere, listed;
  EXPECT_FALSE(q.cancel(never));

  q.insert(popped, 1);
  q.insert(listed, 2);
  q.insert(cancelled, 100);
  other.insert(elsewhere, 1);

  EXPECT_TRUE(q.cancel(cancelled));
  EXPECT_FALSE(q.cancel(cancelled));  // twice
  EXPECT_FALSE(q.cancel(elsewhere));  // another CPU's queue
  EXPECT_EQ(elsewhere.queue(), &other);
  EXPECT_TRUE(other.verify());

  TimerList out;
  EXPECT_EQ(q.pop_expired(2, out), 2u);
  EXPECT_TRUE(popped.listed());
  EXPECT_FALSE(q.cancel(popped));  // expired, about to fire
  ASSERT_EQ(out.pop_front(), &popped);
  EXPECT_FALSE(q.cancel(popped));  // fired
  EXPECT_FALSE(q.cancel(listed));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(out.pop_front(), &listed);
  EXPECT_TRUE(q.verify());
}

TEST(TimerQueueDeathTest, InsertOfQueuedOrListedTimerPanics) {
  TimerQueue q;
  Timer t;
  q.insert(t, 1);
  EXPECT_DEATH(q.insert(t, 2), "timer inserted while queued or listed");
  TimerList out;
  EXPECT_EQ(q.pop_expired(1, out), 1u);
  EXPECT_DEATH(q.insert(t, 2), "timer inserted while queued or listed");
  EXPECT_EQ(out.pop_front(), &t);
}

// A periodic timer re-arms itself from its callback.
struct Periodic {
  TimerQueue* q;
  uint64_t period;
  int fired = 0;
  static void tick(Timer& t, void* arg) {
    auto* p = static_cast<Periodic*>(arg);
    ++p->fired;
    p->q->insert(t, t.deadline_ns() + p->period);
  }
};

TEST(TimerQueue, CallbackFiresAndCanRearm) {
  TimerQueue q;
  Periodic p{&q, 10};
  Timer t(&Periodic::tick, &p);
  q.insert(t, 10);
  for (uint64_t now = 0; now <= 100; now += 5) {
    TimerList out;
    q.pop_expired(now, out);
    while (Timer* e = out.pop_front()) e->fire();
  }
  EXPECT_EQ(p.fired, 10);
  EXPECT_EQ(q.next_deadline(), 110u);
  EXPECT_TRUE(q.cancel(t));
}

// Ascending and descending deadlines are the worst cases for a naive tree;
// check balance holds (verify) and the order comes out right.
TEST(TimerQueue, MonotonicInsertsStayBalanced) {
  for (bool ascending : {true, false}) {
    TimerQueue q;
    constexpr int kN = 4096;
    std::vector<Timer> t(kN);
    for (int i = 0; i < kN; ++i) q.insert(t[i], ascending ? i : kN - i);
    ASSERT_TRUE(q.verify());
    TimerList out;
    EXPECT_EQ(q.pop_expired(~uint64_t{0}, out), size_t{kN});
    uint64_t last = 0;
    while (Timer* e = out.pop_front()) {
      EXPECT_LE(last, e->deadline_ns());
      last = e->deadline_ns();
    }
  }
}

// The model: (deadline, model seq) -> timer index. Ties in the model break by
// its own insertion counter, which must agree with the queue's FIFO ties.
class Model {
 public:
  void insert(int id, uint64_t deadline) {
    auto key = std::make_pair(deadline, seq_++);
    where_[id] = key;
    map_[key] = id;
  }
  bool cancel(int id) {
    auto it = where_.find(id);
    if (it == where_.end()) return false;
    map_.erase(it->second);
    where_.erase(it);
    return true;
  }
  std::vector<int> pop_expired(uint64_t now) {
    std::vector<int> v;
    while (!map_.empty() && map_.begin()->first.first <= now) {
      v.push_back(map_.begin()->second);
      where_.erase(map_.begin()->second);
      map_.erase(map_.begin());
    }
    return v;
  }
  size_t size() const { return map_.size(); }
  uint64_t next_deadline() const { return map_.empty() ? ~uint64_t{0} : map_.begin()->first.first; }
  bool contains(int id) const { return where_.count(id) != 0; }

 private:
  uint64_t seq_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, int> map_;
  std::map<int, std::pair<uint64_t, uint64_t>> where_;
};

void random_ops(uint32_t seed, int n_timers, int n_ops, uint64_t deadline_span, bool verify_each) {
  std::mt19937_64 rng(seed);
  TimerQueue q;
  Model m;
  std::vector<Timer> timers(n_timers);
  auto index_of = [&](Timer* t) { return int(t - timers.data()); };
  uint64_t now = 0;
  for (int op = 0; op < n_ops; ++op) {
    const int kind = int(rng() % 10);
    if (kind < 5) {  // insert an idle timer (or cancel-and-reinsert a queued one)
      int id = int(rng() % n_timers);
      if (m.contains(id)) {
        ASSERT_TRUE(q.cancel(timers[id]));
        ASSERT_TRUE(m.cancel(id));
      }
      uint64_t d = now + rng() % deadline_span;  // small span: many ties
      q.insert(timers[id], d);
      m.insert(id, d);
    } else if (kind < 8) {  // cancel any timer, member or not
      int id = int(rng() % n_timers);
      ASSERT_EQ(q.cancel(timers[id]), m.cancel(id)) << "op " << op;
    } else {  // advance time and expire
      now += rng() % (deadline_span / 4 + 1);
      TimerList out;
      std::vector<int> want = m.pop_expired(now);
      ASSERT_EQ(q.pop_expired(now, out), want.size());
      std::vector<int> got;
      while (Timer* t = out.pop_front()) got.push_back(index_of(t));
      ASSERT_EQ(got, want) << "op " << op;
    }
    ASSERT_EQ(q.size(), m.size());
    ASSERT_EQ(q.next_deadline(), m.next_deadline());
    if (verify_each || op % 4096 == 0) ASSERT_TRUE(q.verify()) << "op " << op;
  }
  ASSERT_TRUE(q.verify());
  TimerList out;
  std::vector<int> want = m.pop_expired(~uint64_t{0});
  ASSERT_EQ(q.pop_expired(~uint64_t{0}, out), want.size());
  std::vector<int> got;
  while (Timer* t = out.pop_front()) got.push_back(index_of(t));
  ASSERT_EQ(got, want);
}

TEST(TimerQueue, RandomOpsMatchModelSmall) {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    random_ops(seed, 16, 2000, 20, /*verify_each=*/true);
    if (HasFatalFailure()) return;
  }
}

TEST(TimerQueue, RandomOpsMatchModelLarge) { random_ops(12345, 100000, 400000, 1'000'000, false); }

TEST(TimerQueue, HundredThousandTimers) {
  constexpr int kN = 100000;
  std::mt19937_64 rng(7);
  TimerQueue q;
  std::vector<Timer> t(kN);
  std::vector<int> order(kN);
  for (int i = 0; i < kN; ++i) {
    order[i] = i;
    q.insert(t[i], rng() % 1'000'000'000);
  }
  ASSERT_EQ(q.size(), size_t{kN});
  ASSERT_TRUE(q.verify());
  std::shuffle(order.begin(), order.end(), rng);
  for (int i = 0; i < kN / 2; ++i) ASSERT_TRUE(q.cancel(t[order[i]]));
  ASSERT_TRUE(q.verify());
  for (int i = 0; i < kN / 2; ++i) ASSERT_FALSE(q.cancel(t[order[i]]));
  TimerList out;
  uint64_t popped = 0, last = 0;
  for (uint64_t now = 0; now < 1'000'000'000; now += 10'000'000) {
    popped += q.pop_expired(now, out);
    while (Timer* e = out.pop_front()) {
      ASSERT_LE(last, e->deadline_ns());
      ASSERT_LE(e->deadline_ns(), now);
      last = e->deadline_ns();
    }
  }
  popped += q.pop_expired(~uint64_t{0}, out);
  EXPECT_EQ(popped, uint64_t{kN / 2});
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.verify());
}

}  // namespace
