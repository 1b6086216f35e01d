#include "src/sched/owner_fifo.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

namespace sched {
namespace {

struct Node {
  Node* rq_next = nullptr;
  int id = 0;
};

// The FIFO's elements head to tail, walked through the links.
std::vector<int> ids(const OwnerFifo<Node>& f) {
  std::vector<int> out;
  for (const Node* n = f.front(); n != nullptr; n = n->rq_next) out.push_back(n->id);
  return out;
}

TEST(OwnerFifo, StartsEmpty) {
  OwnerFifo<Node> f;
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.front(), nullptr);
  EXPECT_EQ(f.pop(), nullptr);
}

TEST(OwnerFifo, PopsInPushOrderAndRefillsAfterEmptying) {
  OwnerFifo<Node> f;
  Node n[3] = {{.id = 1}, {.id = 2}, {.id = 3}};
  for (int round = 0; round < 2; ++round) {
    for (Node& x : n) f.push(&x);
    EXPECT_EQ(f.size(), 3u);
    EXPECT_EQ(f.pop(), &n[0]);
    EXPECT_EQ(f.pop(), &n[1]);
    EXPECT_EQ(f.pop_nonempty(), &n[2]);
    EXPECT_TRUE(f.empty());
    EXPECT_EQ(f.size(), 0u);
    EXPECT_EQ(f.pop(), nullptr);
  }
}

TEST(OwnerFifo, RotateOfALoneHeadLeavesOnlyTheNewcomer) {
  OwnerFifo<Node> f;
  Node a{.id = 1}, b{.id = 2};
  f.push(&a);
  EXPECT_EQ(f.rotate(&b), &a);
  EXPECT_EQ(ids(f), std::vector<int>{2});
  EXPECT_EQ(f.size(), 1u);
  // The tail moved to b: a push lands after it, and b pops first.
  f.push(&a);
  EXPECT_EQ(ids(f), (std::vector<int>{2, 1}));
  EXPECT_EQ(f.pop(), &b);
  EXPECT_EQ(f.pop(), &a);
  EXPECT_TRUE(f.empty());
}

TEST(OwnerFifo, RotateTakesTheHeadAndQueuesAtTheTail) {
  OwnerFifo<Node> f;
  Node n[4] = {{.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};
  for (int i = 0; i < 3; ++i) f.push(&n[i]);
  EXPECT_EQ(f.rotate(&n[3]), &n[0]);
  EXPECT_EQ(ids(f), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(f.size(), 3u);
  // Two threads taking turns, as a pinned yield does: each rotate hands
  // back the other.
  EXPECT_EQ(f.rotate(&n[0]), &n[1]);
  EXPECT_EQ(ids(f), (std::vector<int>{3, 4, 1}));
}

// Any mix of operations agrees with pop-then-push on a std::deque.
TEST(OwnerFifo, MatchesAQueueModelUnderRandomOperations) {
  constexpr int kNodes = 16;
  Node nodes[kNodes];
  for (int i = 0; i < kNodes; ++i) nodes[i].id = i;
  OwnerFifo<Node> f;
  std::deque<Node*> model;
  std::vector<Node*> out;  // not queued
  for (Node& x : nodes) out.push_back(&x);
  std::mt19937 rng(17);
  for (int step = 0; step < 100000; ++step) {
    const unsigned op = rng() % 3;
    if (op == 0 && !out.empty()) {
      size_t k = rng() % out.size();
      Node* x = out[k];
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(k));
      f.push(x);
      model.push_back(x);
    } else if (op == 1) {
      Node* got = f.pop();
      Node* want = model.empty() ? nullptr : model.front();
      ASSERT_EQ(got, want) << "step " << step;
      if (want != nullptr) {
        model.pop_front();
        out.push_back(want);
      }
    } else if (!model.empty() && !out.empty()) {
      size_t k = rng() % out.size();
      Node* x = out[k];
      out[k] = model.front();
      ASSERT_EQ(f.rotate(x), model.front()) << "step " << step;
      model.pop_front();
      model.push_back(x);
    }
    ASSERT_EQ(f.size(), model.size()) << "step " << step;
    ASSERT_EQ(f.empty(), model.empty()) << "step " << step;
  }
  std::vector<int> want;
  for (Node* x : model) want.push_back(x->id);
  EXPECT_EQ(ids(f), want);
}

}  // namespace
}  // namespace sched
