// See evictable.h.
#include "src/rt/evictable.h"

#include "src/base/assert.h"
#include "src/sched/sync.h"

namespace rt {
namespace {

constinit sched::Mutex registry_lock;
Evictable* registry GUARDED_BY(registry_lock) = nullptr;

}  // namespace

void register_evictable(Evictable* e) {
  sched::MutexGuard g(registry_lock);
  Evictable** tail = &registry;
  for (; *tail != nullptr; tail = &(*tail)->next) ASSERT_MSG(*tail != e, "evictable '{}' registered twice", e->name);
  e->next = nullptr;
  *tail = e;
}

void unregister_evictable(Evictable* e) {
  sched::MutexGuard g(registry_lock);
  for (Evictable** p = &registry; *p != nullptr; p = &(*p)->next) {
    if (*p == e) {
      *p = e->next;
      return;
    }
  }
  PANIC("unregister_evictable: '{}' is not registered", e->name);
}

uint64_t evict(uint64_t bytes) {
  // The registry lock is held across the shrinkers: registration is rare,
  // and it keeps a cache from being unregistered (and freed) mid-shrink.
  sched::MutexGuard g(registry_lock);
  uint64_t freed = 0;
  for (Evictable* e = registry; e != nullptr && freed < bytes; e = e->next) {
    const uint64_t got = e->shrink(e->ctx, bytes - freed);
    if (got == 0) continue;
    e->evicted_bytes += got;
    ++e->evictions;
    freed += got;
  }
  return freed;
}

void for_each_evictable(void (*fn)(const Evictable& e, void* arg), void* arg) {
  sched::MutexGuard g(registry_lock);
  for (const Evictable* e = registry; e != nullptr; e = e->next) fn(*e, arg);
}

}  // namespace rt
