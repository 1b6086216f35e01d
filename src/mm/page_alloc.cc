// See page_alloc.h.
#include "src/mm/page_alloc.h"

#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/spinlock.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/mm/direct_map.h"
#include "src/mm/fail_inject.h"

namespace mm {
namespace {

// One cache line apart: each is written only by its own CPU.
// Each page with its metadata, so that handing it out needs no lookup.
struct CachedPage {
  base::PhysAddr pa;
  PhysPageMeta* meta;
};
// Owned by its CPU, but another CPU that finds the buddy lists empty drains
// it (free pages must not be stranded in idle CPUs' caches), so a flag
// guards it: uncontended, one exchange and one store per operation. Not a
// SpinLock: the fast path's caller already has interrupts off (irq_save
// around the hold), and a ticket lock's fetch-add and its own flag save
// would be paid on the hottest allocation for a lock that is almost never
// contended. The cache is its own capability: count and pages are
// GUARDED_BY it.
struct alignas(64) CAPABILITY("mutex") PageCache {
  base::Atomic<uint32_t> busy{0};
  uint32_t count GUARDED_BY(this) = 0;  // also read racily, as a hint, with __atomic_load_n
  CachedPage pages[kPageCacheSize] GUARDED_BY(this) = {};

  void lock() ACQUIRE() {
    // Acquire: the previous holder's updates of `pages` and `count`.
    while (busy.exchange(1, base::MemoryOrder::kAcquire) != 0) arch::cpu_relax();
  }
  void unlock() RELEASE() { busy.store(0, base::MemoryOrder::kRelease); }
};

constinit arch::SpinLock lock;
// alloc/free under `lock`; cache_page/uncache_page are atomic and lock-free
// (through cache_page_lockfree).
constinit PhysAllocator phys GUARDED_BY(lock);
constinit PageCache caches[arch::kMaxCpus];
constinit bool poison_mode = false;
// poison_mode, or fault injection armed: order-0 allocations leave the fast
// path (read-mostly, set once at init).
constinit bool alloc_slow = false;
constinit bool ready = false;
constinit PageInitMode init_mode = PageInitMode::kBoot;
// The first and last page_alloc_init_step() that prepared pages, under
// `lock`: how long the deferred init took, for `mem`.
constinit uint64_t init_first_tsc GUARDED_BY(lock) = 0;
constinit uint64_t init_last_tsc GUARDED_BY(lock) = 0;

uint8_t* direct_ptr(void*, base::PhysAddr pa) { return static_cast<uint8_t*>(phys_to_virt(pa)); }

// PhysAllocator::cache_page is atomic and lock-free (phys.h): the page
// free fast path calls it without `lock`. On failure its reason is read
// racily, for the panic message only.
base::Status cache_page_lockfree(base::PhysAddr pa, PhysPageMeta** meta) NO_THREAD_SAFETY_ANALYSIS {
  return phys.cache_page(pa, meta);
}
const char* cache_page_error() NO_THREAD_SAFETY_ANALYSIS { return phys.last_error(); }

[[noreturn]] void bad_free(base::PhysAddr pa, unsigned order, const char* why) {
  PANIC("page_free({:#x}, order {}): {}", pa.value(), order, why ? why : "invalid free");
}

// Moves pages between this CPU's cache and the buddy lists. Interrupts off.
void refill(PageCache& c) REQUIRES(c) {
  arch::SpinLockGuard g(lock);
  while (c.count < kPageCacheSize / 2) {
    base::Result<base::PhysAddr> p = phys.alloc(0);
    if (!p.ok()) break;
    PhysPageMeta* meta = nullptr;
    ASSERT(phys.cache_page(p.value(), &meta).ok());  // freshly allocated: cannot fail
    c.pages[c.count++] = CachedPage{p.value(), meta};
  }
}

void drain(PageCache& c, uint32_t keep) REQUIRES(c) {
  arch::SpinLockGuard g(lock);
  while (c.count > keep) {
    const CachedPage& p = c.pages[--c.count];
    PhysAllocator::uncache(p.meta);
    ASSERT(phys.free(p.pa, 0).ok());  // it was allocated and cached: cannot fail
  }
}

// Interrupts off, no cache lock held.
void drain_other_caches(uint32_t self) {
  for (uint32_t i = 0; i < arch::kMaxCpus; ++i) {
    PageCache& c = caches[i];
    if (i == self || __atomic_load_n(&c.count, __ATOMIC_RELAXED) == 0) continue;
    c.lock();
    drain(c, 0);
    c.unlock();
  }
}

// The cache side of page_alloc(0) when this CPU's cache is empty: refill it
// from the buddy lists, or, when those are empty too, take back what other
// CPUs cache and try once more. Out of line so the fast path stays a leaf.
[[gnu::noinline]] base::Result<base::PhysAddr> cache_alloc_slow(uint32_t flags) {
  uint64_t irq = arch::irq_save();
  PageCache& c = caches[arch::this_cpu().index.value];
  c.lock();
  if (c.count == 0) refill(c);
  if (c.count == 0) {
    // With our own cache unlocked: two CPUs doing this at once must not
    // wait for each other.
    c.unlock();
    drain_other_caches(arch::this_cpu().index.value);
    c.lock();
    refill(c);
    if (c.count == 0) {
      c.unlock();
      arch::irq_restore(irq);
      return base::Error::kOutOfMemory;
    }
  }
  const CachedPage p = c.pages[--c.count];
  c.unlock();
  arch::irq_restore(irq);
  PhysAllocator::uncache(p.meta);
  if (flags & kAllocZero) __builtin_memset(phys_to_virt(p.pa), 0, base::kPageSize);
  return p.pa;
}

// kAllocZero, out of line: a call to memset would give the fast path a frame.
[[gnu::noinline]] base::Result<base::PhysAddr> zeroed(base::PhysAddr pa) {
  __builtin_memset(phys_to_virt(pa), 0, base::kPageSize);
  return pa;
}

[[gnu::noinline]] base::Result<base::PhysAddr> buddy_alloc(unsigned order, uint32_t flags) {
  arch::SpinLockGuard g(lock);
  base::Result<base::PhysAddr> p = phys.alloc(order, flags);
  if (!p.ok() && p.error() == base::Error::kFault)
    PANIC("page_alloc: poison overwritten at {:#x}: a write after free", phys.last_fault_addr().value());
  return p;
}

// page_free(pa, 0) into a full cache: drain half of it first.
[[gnu::noinline]] void cache_free_slow(base::PhysAddr pa, PhysPageMeta* meta) {
  uint64_t irq = arch::irq_save();
  PageCache& c = caches[arch::this_cpu().index.value];
  c.lock();
  if (c.count == kPageCacheSize) drain(c, kPageCacheSize / 2);
  c.pages[c.count++] = CachedPage{pa, meta};
  c.unlock();
  arch::irq_restore(irq);
}

[[gnu::noinline]] void buddy_free(base::PhysAddr pa, unsigned order) {
  arch::SpinLockGuard g(lock);
  if (!phys.free(pa, order).ok()) bad_free(pa, order, phys.last_error());
}

}  // namespace

void page_alloc_init(base::Span<const PhysRange> ranges, base::PhysAddr meta_phys, bool poison, PageInitMode mode) {
  ASSERT_MSG(!ready, "page_alloc_init called twice");
  uint64_t bytes = phys_metadata_bytes(ranges);
  auto* meta = static_cast<uint8_t*>(phys_to_virt(meta_phys));
  arch::SpinLockGuard g(lock);
  const uint64_t init_pages = mode == PageInitMode::kBoot ? ~uint64_t{0} : kPageInitAtBootBytes >> base::kPageShift;
  const PhysOptions options{.poison = poison, .init_pages = init_pages};
  base::Status s = phys.init(ranges, base::Span<uint8_t>(meta, bytes), direct_ptr, nullptr, options);
  if (!s.ok()) PANIC("page allocator: {} ({})", base::error_name(s.error()), phys.last_error());
  poison_mode = poison;
  // Fault injection is armed before mm starts (kmain), so that this flag
  // and the heap's are set once, here.
  alloc_slow = poison || fail_armed();
  init_mode = mode;
  ready = true;
}

PageInitMode page_alloc_init_mode() { return init_mode; }

bool page_alloc_init_step() {
  const uint64_t start = arch::rdtsc();
  arch::SpinLockGuard g(lock);
  if (phys.grow(kPageInitStepPages) == 0) return false;
  if (init_first_tsc == 0) init_first_tsc = start;
  init_last_tsc = arch::rdtsc();
  return true;
}

namespace {

// An order-0 page from this CPU's cache: the fast path's body, also the
// slow path's when only fault injection sent it there.
[[gnu::always_inline]] inline base::Result<base::PhysAddr> cache_alloc(uint32_t flags) {
  uint64_t irq = arch::irq_save();
  PageCache& c = caches[arch::this_cpu().index.value];
  c.lock();
  const uint32_t n = c.count;
  if (__builtin_expect(n == 0, 0)) {
    c.unlock();
    arch::irq_restore(irq);
    return cache_alloc_slow(flags);
  }
  c.count = n - 1;
  const CachedPage p = c.pages[n - 1];
  c.unlock();
  arch::irq_restore(irq);
  PhysAllocator::uncache(p.meta);
  if (flags & kAllocZero) return zeroed(p.pa);
  return p.pa;
}

// Everything but an order-0 page with neither poison checking nor fault
// injection on: fail.page's failures are decided here (inside a
// FaultScope, fail_inject.h), so that injection costs the fast path
// nothing it did not pay already (`alloc_slow` is tested there anyway).
[[gnu::noinline]] base::Result<base::PhysAddr> page_alloc_slow(unsigned order, uint32_t flags) {
  if (fail_armed() && fail_inject_now(FaultSite::kPage)) return base::Error::kOutOfMemory;
  if (order != 0 || poison_mode) return buddy_alloc(order, flags);
  return cache_alloc(flags);
}

}  // namespace

// The fast path below is the hottest allocation in the kernel: this CPU's
// cache with interrupts off (not push_cli: nothing here nests or takes a
// lock), everything else out of line so that it needs no stack frame.
base::Result<base::PhysAddr> page_alloc(unsigned order, uint32_t flags) {
  DEBUG_ASSERT(ready);
  if (__builtin_expect(order != 0, 0) || __builtin_expect(alloc_slow, 0)) return page_alloc_slow(order, flags);
  return cache_alloc(flags);
}

void page_free(base::PhysAddr pa, unsigned order) {
  DEBUG_ASSERT(ready);
  if (__builtin_expect(order != 0, 0) || __builtin_expect(poison_mode, 0)) return buddy_free(pa, order);
  // Checked before it enters the cache, so a double free is caught here
  // and not when the page is handed out twice.
  PhysPageMeta* meta = nullptr;
  if (__builtin_expect(!cache_page_lockfree(pa, &meta).ok(), 0)) bad_free(pa, order, cache_page_error());
  uint64_t irq = arch::irq_save();
  PageCache& c = caches[arch::this_cpu().index.value];
  c.lock();
  const uint32_t n = c.count;
  if (__builtin_expect(n == kPageCacheSize, 0)) {
    c.unlock();
    arch::irq_restore(irq);
    return cache_free_slow(pa, meta);
  }
  c.pages[n] = CachedPage{pa, meta};
  c.count = n + 1;
  c.unlock();
  arch::irq_restore(irq);
}

PageAllocStats page_alloc_stats() {
  PageAllocStats s{};
  {
    arch::SpinLockGuard g(lock);
    s.phys = phys.stats();
    s.init_step_tsc = init_last_tsc - init_first_tsc;
  }
  for (const PageCache& c : caches) s.cached_pages += __atomic_load_n(&c.count, __ATOMIC_RELAXED);
  s.phys.free_pages += s.cached_pages;
  s.poison = poison_mode;
  return s;
}

void page_cache_drain_this_cpu() {
  uint64_t irq = arch::irq_save();
  PageCache& c = caches[arch::this_cpu().index.value];
  c.lock();
  drain(c, 0);
  c.unlock();
  arch::irq_restore(irq);
}

}  // namespace mm
