#include "src/sched/inbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sched {
namespace {

struct Node {
  Node* rq_next = nullptr;
  uint32_t producer = 0;
  uint32_t seq = 0;
};
struct NodeLink {
  static Node* next(const Node* n) { return n->rq_next; }
  static void set_next(Node* n, Node* next) { n->rq_next = next; }
};
using TestInbox = Inbox<Node, NodeLink>;

std::vector<Node*> take(TestInbox& in) {
  std::vector<Node*> out;
  in.take_all([&](Node* n) { out.push_back(n); });
  return out;
}

TEST(Inbox, StartsEmpty) {
  TestInbox in;
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(in.size(), 0u);
  EXPECT_EQ(in.take_all([](Node*) { FAIL() << "nothing was pushed"; }), 0u);
}

TEST(Inbox, TakeAllReturnsThePushesOldestFirst) {
  TestInbox in;
  Node n[5];
  for (Node& x : n) in.push(&x);
  EXPECT_FALSE(in.empty());
  EXPECT_EQ(in.size(), 5u);
  std::vector<Node*> got = take(in);
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(got[i], &n[i]);
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(in.size(), 0u);
}

TEST(Inbox, TheCallbackMayRelinkTheNodeItIsGiven) {
  // The scheduler moves each thread into its bound FIFO through the same
  // link field while take_all walks the list.
  TestInbox in;
  Node n[3];
  for (Node& x : n) in.push(&x);
  std::vector<Node*> got;
  in.take_all([&](Node* x) {
    x->rq_next = nullptr;
    got.push_back(x);
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], &n[0]);
  EXPECT_EQ(got[2], &n[2]);
}

TEST(Inbox, ANodeTakenMayBePushedAgain) {
  TestInbox in;
  Node a, b;
  in.push(&a);
  ASSERT_EQ(take(in).size(), 1u);
  in.push(&b);
  in.push(&a);
  std::vector<Node*> got = take(in);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], &b);
  EXPECT_EQ(got[1], &a);
}

// Producers push concurrently while the owner takes: every node arrives
// exactly once, each producer's in its order, and nodes handed back to a
// producer are pushed again (the reuse that would expose ABA).
TEST(Inbox, ConcurrentProducersLoseNothingAndKeepTheirOrder) {
  constexpr uint32_t kProducers = 4;
  constexpr uint32_t kPerProducer = 20000;
  constexpr uint32_t kNodesEach = 8;  // each producer cycles through a few nodes
  TestInbox in;
  std::vector<std::vector<Node>> nodes(kProducers, std::vector<Node>(kNodesEach));
  // A node is free for its producer once the owner has taken it.
  std::vector<std::vector<std::atomic<bool>>> free_(kProducers);
  for (auto& f : free_) {
    f = std::vector<std::atomic<bool>>(kNodesEach);
    for (auto& x : f) x.store(true);
  }
  std::vector<std::thread> producers;
  for (uint32_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (uint32_t i = 0; i < kPerProducer; ++i) {
        uint32_t k = i % kNodesEach;
        while (!free_[p][k].load(std::memory_order_acquire)) std::this_thread::yield();
        free_[p][k].store(false, std::memory_order_relaxed);
        nodes[p][k].producer = p;
        nodes[p][k].seq = i;
        in.push(&nodes[p][k]);
      }
    });
  }
  std::vector<uint32_t> next(kProducers, 0);
  uint32_t total = 0;
  bool in_order = true;
  while (total < kProducers * kPerProducer) {
    in.take_all([&](Node* n) {
      if (n->seq != next[n->producer]) in_order = false;
      next[n->producer] = n->seq + 1;
      ++total;
      free_[n->producer][n - nodes[n->producer].data()].store(true, std::memory_order_release);
    });
  }
  for (std::thread& t : producers) t.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(total, kProducers * kPerProducer);
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(in.size(), 0u);
}

}  // namespace
}  // namespace sched
