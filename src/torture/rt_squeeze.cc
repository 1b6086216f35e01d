// See rt_squeeze.h.
#include "src/torture/rt_squeeze.h"

#include "src/mm/heap_class_counts.h"
#include "src/mm/heap_size_classes.h"
#include "src/mm/kmalloc.h"
#include "src/rt/reserve.h"
#include "src/rt/reserve_stats.h"
#include "src/sched/sched.h"
#include "src/torture/churn_util.h"

namespace torture {
namespace {

using base::MemoryOrder;
using Worker = RtSqueeze::Worker;

constexpr uint64_t kMs = 1'000'000;
constexpr uint32_t kBlock = 256;

constinit rt::ReserveSite squeeze_site{"torture.squeeze", [] {
                                         rt::Objs o{};
                                         o[mm::size_to_class(64)] = 3;
                                         o[mm::size_to_class(256)] = 1;
                                         return o;
                                       }()};

// One reserve (the site's sparse want, or a dense want on the vector
// path; without waiting, or waiting up to 10 ms), then everything it
// promised, which must not fail.
void reserve_op(RtSqueeze& q, uint64_t r) {
  rt::Objs want{};
  const bool dense = (r & 8) != 0;
  if (dense) {
    for (int i = 0; i < 6; ++i) want[(r >> (8 + 4 * i)) % 14] += 1;
  } else {
    want = squeeze_site.want;
  }
  const rt::ReserveWait wait{.timeout_ns = (r & 16) != 0 ? 0 : ((r >> 40) % 10 + 1) * kMs};
  rt::Reservation res = dense ? rt::Reservation(squeeze_site, want, wait) : rt::Reservation(squeeze_site, wait);
  if (!res.ok()) {
    const base::Error e = res.status().error();
    if (e == base::Error::kOutOfMemory)
      q.oom_.fetch_add(1, MemoryOrder::kRelaxed);
    else if (e == base::Error::kTimedOut && wait.timeout_ns != 0)
      q.timeouts_.fetch_add(1, MemoryOrder::kRelaxed);
    else
      q.fail("a reserve failed other than out of memory or (with a timeout) timed out");
    return;
  }
  q.granted_.fetch_add(1, MemoryOrder::kRelaxed);
  void* held[24];
  uint32_t n = 0;
  for (unsigned cls = 0; cls < rt::kObjsClasses; ++cls) {
    for (uint32_t i = 0; i < want[cls] && n < 24; ++i) {
      void* p = mm::kmalloc(mm::heap_class(cls).size);
      if (p == nullptr) {
        q.fail("an allocation a granted reservation covered failed");
        continue;
      }
      held[n++] = p;
    }
  }
  for (uint32_t i = 0; i < n; ++i) mm::kfree(held[i]);
}

void reserver(Worker& w) {
  auto& q = static_cast<RtSqueeze&>(*w.owner);
  while (!q.stopping()) {
    q.checkpoint(w);
    const uint64_t r = next(w.rng);
    w.set_doing("a reserve (its reclaims drain every CPU) and its allocations");
    reserve_op(q, r);
    // Now and then a block for the cache (outside any reservation), which
    // a squeezed reserve's eviction may free.
    if ((r & 0x70) == 0) {
      w.set_doing("kmalloc a block for the cache");
      void* p = mm::kmalloc(kBlock);
      if (p != nullptr) q.put_in_cache(p);
    }
  }
}

// Lowers the maximum to three quarters of what is live and reserved (so
// reserves must wait, evict or fail) for a few milliseconds, then
// restores it; parks at the gate only with the maximum restored.
void squeezer(Worker& w) {
  auto& q = static_cast<RtSqueeze&>(*w.owner);
  while (!q.stopping()) {
    q.checkpoint(w);
    w.set_doing("sleep before a squeeze");
    sched::sleep_for((10 + below(w.rng, 40)) * kMs);
    if (q.stopping()) break;
    const rt::ResSnapshot s = rt::res_snapshot();
    const uint64_t in_use = s.live_bytes + mm::class_counts_bytes(s.reserved);
    const uint64_t squeezed = in_use * 3 / 4 > 0 ? in_use * 3 / 4 : 1;
    w.set_doing("set_max_heap lowered (it drains every CPU)");
    if (!rt::set_max_heap(squeezed).ok()) {
      q.fail("set_max_heap refused a squeeze");
      continue;
    }
    w.set_doing("sleep squeezed");
    sched::sleep_for((2 + below(w.rng, 10)) * kMs);
    w.set_doing("set_max_heap restored");
    if (!rt::set_max_heap(static_cast<uint64_t>(q.max_bytes)).ok()) q.fail("set_max_heap refused the restore");
    q.squeezes_.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

void run_worker(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  if (w.id < RtSqueeze::kReservers)
    reserver(w);
  else
    squeezer(w);
}

uint64_t shrink_cache(void* ctx, uint64_t bytes) { return static_cast<RtSqueeze*>(ctx)->shrink(bytes); }

}  // namespace

void RtSqueeze::put_in_cache(void* p) {
  {
    arch::SpinLockGuard g(cache_lock);
    if (cached < kCacheMax) {
      cache[cached++] = p;
      return;
    }
  }
  mm::kfree(p);
}

uint64_t RtSqueeze::shrink(uint64_t bytes) {
  uint64_t freed = 0;
  while (freed < bytes) {
    void* p = nullptr;
    {
      arch::SpinLockGuard g(cache_lock);
      if (cached == 0) break;
      p = cache[--cached];
    }
    mm::kfree(p);  // outside the lock: kfree may take the heap's
    freed += kBlock;
  }
  return freed;
}

base::Status RtSqueeze::start(Gate* g) {
  max_bytes = rt::res_snapshot().max_bytes;
  cache_.shrink = shrink_cache;
  cache_.ctx = this;
  rt::register_evictable(&cache_);
  return spawn_workers(g, run_worker, 0xbf58'476d'1ce4'e5b9ull);
}

void RtSqueeze::stop() {
  join_workers();
  if (!rt::set_max_heap(static_cast<uint64_t>(max_bytes)).ok()) fail("set_max_heap refused the restore");
  if (cache_.shrink != nullptr) {
    rt::unregister_evictable(&cache_);
    cache_.shrink = nullptr;
  }
  (void)shrink(~uint64_t{0});
}

}  // namespace torture
