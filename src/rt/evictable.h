// Caches that can give heap memory back (Biscuit's Cacheres): a module that
// holds one registers how to shrink it, and a reserve the budget cannot
// cover asks them before it waits. Kernel only, thread context.
#pragma once

#include "src/base/types.h"

namespace rt {

/// A registered cache. `shrink(ctx, bytes)` frees cached heap objects worth
/// about `bytes` (more or less) and returns the bytes it freed; it runs in
/// thread context with no rt lock held and may take its own locks, but must
/// not reserve.
struct Evictable {
  const char* name;
  uint64_t (*shrink)(void* ctx, uint64_t bytes);
  void* ctx;
  // rt's: the registry's list and what this cache gave back so far.
  Evictable* next = nullptr;
  uint64_t evicted_bytes = 0;
  uint64_t evictions = 0;
};

/// Adds `e` (until unregister_evictable). Registering twice panics.
void register_evictable(Evictable* e);
void unregister_evictable(Evictable* e);

/// Asks the registered caches, oldest first, for `bytes`; returns what they
/// freed. Their frees are credited to the CPUs' own accounts, which the
/// caller then flushes to the budget.
uint64_t evict(uint64_t bytes);

/// Calls fn(const Evictable&) for each registered cache, under the
/// registry lock (fn must not register or evict).
void for_each_evictable(void (*fn)(const Evictable& e, void* arg), void* arg);

}  // namespace rt
