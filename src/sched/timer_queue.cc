// The red-black tree behind TimerQueue: CLRS's insert and delete fixups,
// with null leaves (the fixup tracks the parent of a null x explicitly).
#include "src/sched/timer_queue.h"

#include "src/base/assert.h"

namespace sched {
namespace {

constexpr int kLeft = 0, kRight = 1;

}  // namespace

void TimerList::push_back(Timer& t) {
  ASSERT_MSG(t.state_ == Timer::State::kIdle, "timer listed while queued or listed");
  t.state_ = Timer::State::kListed;
  t.list_next_ = nullptr;
  if (tail_ != nullptr) {
    tail_->list_next_ = &t;
  } else {
    head_ = &t;
  }
  tail_ = &t;
}

Timer* TimerList::pop_front() {
  Timer* t = head_;
  if (t == nullptr) return nullptr;
  head_ = t->list_next_;
  if (head_ == nullptr) tail_ = nullptr;
  t->list_next_ = nullptr;
  t->state_ = Timer::State::kIdle;
  return t;
}

Timer* TimerQueue::min_of(Timer* t) {
  while (t->child_[kLeft] != nullptr) t = t->child_[kLeft];
  return t;
}

// In-order successor, or null.
Timer* TimerQueue::next_of(Timer* t) {
  if (t->child_[kRight] != nullptr) return min_of(t->child_[kRight]);
  Timer* p = t->parent_;
  while (p != nullptr && t == p->child_[kRight]) {
    t = p;
    p = p->parent_;
  }
  return p;
}

void TimerQueue::replace_child(Timer* parent, Timer* old_child, Timer* new_child) {
  if (parent == nullptr) {
    root_ = new_child;
  } else if (parent->child_[kLeft] == old_child) {
    parent->child_[kLeft] = new_child;
  } else {
    parent->child_[kRight] = new_child;
  }
  if (new_child != nullptr) new_child->parent_ = parent;
}

void TimerQueue::rotate(Timer* x, int dir) {
  const int other = 1 - dir;
  Timer* y = x->child_[other];
  x->child_[other] = y->child_[dir];
  if (y->child_[dir] != nullptr) y->child_[dir]->parent_ = x;
  replace_child(x->parent_, x, y);
  y->child_[dir] = x;
  x->parent_ = y;
}

void TimerQueue::insert(Timer& t, uint64_t deadline_ns) {
  ASSERT_MSG(t.state_ == Timer::State::kIdle, "timer inserted while queued or listed");
  t.deadline_ns_ = deadline_ns;
  t.seq_ = next_seq_++;  // 2^64 inserts never happen: no wrap handling
  t.child_[kLeft] = t.child_[kRight] = nullptr;
  t.red_ = true;
  t.state_ = Timer::State::kQueued;
  __atomic_store_n(&t.queue_, this, __ATOMIC_RELEASE);

  Timer* parent = nullptr;
  Timer** link = &root_;
  bool leftmost = true;
  while (*link != nullptr) {
    parent = *link;
    // Equal deadlines go right: the new timer has the largest seq_.
    if (before(&t, parent)) {
      link = &parent->child_[kLeft];
    } else {
      link = &parent->child_[kRight];
      leftmost = false;
    }
  }
  t.parent_ = parent;
  *link = &t;
  if (leftmost) leftmost_ = &t;
  ++size_;
  insert_fixup(&t);
}

void TimerQueue::insert_fixup(Timer* z) {
  // z is red; the only possible violation is a red parent.
  while (is_red(z->parent_)) {
    Timer* p = z->parent_;
    Timer* g = p->parent_;                                    // exists: a red node is never the root
    const int side = p == g->child_[kLeft] ? kLeft : kRight;  // p's side of g
    const int other = 1 - side;
    Timer* uncle = g->child_[other];
    if (is_red(uncle)) {
      p->red_ = false;
      uncle->red_ = false;
      g->red_ = true;
      z = g;
      continue;
    }
    if (z == p->child_[other]) {
      rotate(p, side);
      z = p;
      p = z->parent_;
    }
    p->red_ = false;
    g->red_ = true;
    rotate(g, other);
  }
  root_->red_ = false;
}

bool TimerQueue::cancel(Timer& t) {
  if (t.state_ != Timer::State::kQueued || t.queue_ != this) return false;
  erase(&t);
  return true;
}

size_t TimerQueue::pop_expired(uint64_t now_ns, TimerList& out) {
  size_t n = 0;
  while (leftmost_ != nullptr && leftmost_->deadline_ns_ <= now_ns) {
    Timer* t = leftmost_;
    erase(t);
    out.push_back(*t);
    ++n;
  }
  return n;
}

void TimerQueue::erase(Timer* z) {
  if (z == leftmost_) leftmost_ = next_of(z);

  // y: the node actually spliced out of its position (z, or z's successor
  // when z has two children, which then takes z's place and colour).
  // x: the node (possibly null) that moves into y's old position, with
  // x_parent its parent there.
  bool removed_black;
  Timer* x;
  Timer* x_parent;
  if (z->child_[kLeft] == nullptr || z->child_[kRight] == nullptr) {
    x = z->child_[kLeft] != nullptr ? z->child_[kLeft] : z->child_[kRight];
    x_parent = z->parent_;
    removed_black = !z->red_;
    replace_child(z->parent_, z, x);
  } else {
    Timer* y = min_of(z->child_[kRight]);
    removed_black = !y->red_;
    x = y->child_[kRight];
    if (y->parent_ == z) {
      x_parent = y;
    } else {
      x_parent = y->parent_;
      replace_child(y->parent_, y, x);
      y->child_[kRight] = z->child_[kRight];
      y->child_[kRight]->parent_ = y;
    }
    replace_child(z->parent_, z, y);
    y->child_[kLeft] = z->child_[kLeft];
    y->child_[kLeft]->parent_ = y;
    y->red_ = z->red_;
  }
  if (removed_black) erase_fixup(x, x_parent);

  z->parent_ = z->child_[kLeft] = z->child_[kRight] = nullptr;
  z->state_ = Timer::State::kIdle;
  // Release: a lock-free reader that sees null also sees an in-transit
  // mark set before this (Timer::in_transit).
  __atomic_store_n(&z->queue_, nullptr, __ATOMIC_RELEASE);
  --size_;
}

void TimerQueue::erase_fixup(Timer* x, Timer* x_parent) {
  // x carries an extra black. Its sibling is non-null: x's side lost a black
  // node, so the other side has black height >= 1.
  while (x != root_ && !is_red(x)) {
    const int side = x == x_parent->child_[kLeft] ? kLeft : kRight;  // x's side
    const int other = 1 - side;
    Timer* w = x_parent->child_[other];
    if (is_red(w)) {
      w->red_ = false;
      x_parent->red_ = true;
      rotate(x_parent, side);
      w = x_parent->child_[other];
    }
    if (!is_red(w->child_[kLeft]) && !is_red(w->child_[kRight])) {
      w->red_ = true;
      x = x_parent;
      x_parent = x->parent_;
      continue;
    }
    if (!is_red(w->child_[other])) {
      w->child_[side]->red_ = false;
      w->red_ = true;
      rotate(w, other);
      w = x_parent->child_[other];
    }
    w->red_ = x_parent->red_;
    x_parent->red_ = false;
    w->child_[other]->red_ = false;
    rotate(x_parent, side);
    x = root_;
  }
  if (x != nullptr) x->red_ = false;
}

// Returns the subtree's black height, or -1 if an invariant is broken.
int TimerQueue::verify_subtree(const Timer* t, const Timer* parent, size_t& count) const {
  if (t == nullptr) return 1;
  if (t->parent_ != parent || t->queue_ != this || t->state_ != Timer::State::kQueued) return -1;
  if (t->red_ && (is_red(t->child_[kLeft]) || is_red(t->child_[kRight]))) return -1;
  if (t->child_[kLeft] != nullptr && !before(t->child_[kLeft], t)) return -1;
  if (t->child_[kRight] != nullptr && !before(t, t->child_[kRight])) return -1;
  ++count;
  int l = verify_subtree(t->child_[kLeft], t, count);
  int r = verify_subtree(t->child_[kRight], t, count);
  if (l < 0 || r < 0 || l != r) return -1;
  return l + (t->red_ ? 0 : 1);
}

bool TimerQueue::verify() const {
  if (is_red(root_)) return false;
  size_t count = 0;
  if (verify_subtree(root_, nullptr, count) < 0) return false;
  if (count != size_) return false;
  if (root_ == nullptr) return leftmost_ == nullptr;
  if (leftmost_ != min_of(root_)) return false;
  // The local parent/child checks above do not catch a node on the wrong
  // side of an ancestor; an in-order walk does.
  size_t walked = 1;
  for (Timer* t = leftmost_; Timer* n = next_of(t); t = n, ++walked) {
    if (!before(t, n)) return false;
  }
  return walked == size_;
}

}  // namespace sched
