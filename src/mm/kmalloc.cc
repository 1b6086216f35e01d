// See kmalloc.h.
#include "src/mm/kmalloc.h"

#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/spinlock.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/mm/alloc_map.h"
#include "src/mm/direct_map.h"
#include "src/mm/heap_cache.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/mm/safe_access.h"

namespace mm {

// This CPU's heap cache, by a name arch::PerCpu can point to.
struct PerCpuHeapCache : HeapCache<arch::SpinLock> {};

namespace {

using Cache = PerCpuHeapCache;

// Above this the heap's page source (the buddy) cannot serve a run.
constexpr size_t kHugeThreshold = order_bytes(kMaxOrder);
constexpr uint64_t kHugeMagic = 0xb15c'0771'4e47'e000;

struct HugeHeader {
  uint64_t magic;
  uint64_t size;  // bytes asked for
};

// Not constinit: their default constructors are not constexpr; kmain runs
// the static constructors before anything allocates.
HeapCentral<arch::SpinLock> central;
Cache caches[arch::kMaxCpus];  // by CPU index; PerCpu::heap_cache points here
constinit bool ready = false;
constinit base::Atomic<uint64_t> huge_objects{0}, huge_bytes{0};

unsigned order_for(size_t pages) {
  unsigned order = 0;
  while ((size_t{1} << order) < pages) ++order;
  return order;
}

// Runs for spans and large objects: a buddy block (the run rounded up to a
// power of two pages) through the direct map.
base::Result<uintptr_t> heap_pages(void*, size_t pages) {
  unsigned order = order_for(pages);
  if (order > kMaxOrder) return base::Error::kOutOfMemory;
  base::Result<uint64_t> p = page_alloc(order);
  if (!p.ok()) return p.error();
  return reinterpret_cast<uintptr_t>(phys_to_virt(p.value()));
}

void heap_pages_free(void*, uintptr_t addr, size_t pages) {
  page_free(direct_virt_to_phys(reinterpret_cast<void*>(addr)), order_for(pages));
}

// This CPU's cache: one GS-relative load. Call with interrupts off (the
// asm is volatile so it is never hoisted above the irq_save() that pins
// us to this CPU).
Cache& this_cache() {
  PerCpuHeapCache* c;
  asm volatile("mov %%gs:%c1, %0" : "=r"(c) : "i"(__builtin_offsetof(arch::PerCpu, heap_cache)));
  return *c;
}

// The per-CPU cache runs with interrupts off: an interrupt handler on this
// CPU may use the heap too.
template <typename Fn>
auto with_cache(Fn fn) {
  uint64_t irq = arch::irq_save();
  auto r = fn(this_cache());
  arch::irq_restore(irq);
  return r;
}

}  // namespace

void heap_cache_flush_this_cpu() {
  with_cache([](Cache& c) {
    c.flush();
    return 0;
  });
}

namespace {

bool is_huge(const void* p) {
  uint64_t a = reinterpret_cast<uint64_t>(p);
  return a >= kVaWindowBase && a - kVaWindowBase < kVaWindowBytes;
}

uint64_t huge_span(size_t size) { return base::kPageSize + ((size + base::kPageSize - 1) & ~(base::kPageSize - 1)); }

// Objects above 2 MiB: a header page, then the object, page-aligned, in
// their own range of the VA window.
void* huge_alloc(size_t size) {
  const uint64_t span = huge_span(size);
  base::Result<uint64_t> va = kva_alloc(span);
  if (!va.ok()) return nullptr;
  if (!alloc_map_range(va.value(), span, kPermWrite).ok()) {
    (void)kva_free(va.value(), span);
    return nullptr;
  }
  *reinterpret_cast<HugeHeader*>(va.value()) = HugeHeader{kHugeMagic, size};
  huge_objects.fetch_add(1, base::MemoryOrder::kRelaxed);
  huge_bytes.fetch_add(size, base::MemoryOrder::kRelaxed);
  return reinterpret_cast<void*>(va.value() + base::kPageSize);
}

// The header of a huge object, or 0 for a pointer that is not one (read by
// probes: after a free the header is unmapped).
uint64_t huge_size(const void* p) {
  uint64_t a = reinterpret_cast<uint64_t>(p);
  if (a % base::kPageSize != 0) return 0;
  base::Result<uint64_t> magic = safe_read64(a - base::kPageSize);
  base::Result<uint64_t> size = safe_read64(a - base::kPageSize + 8);
  if (!magic.ok() || !size.ok() || magic.value() != kHugeMagic) return 0;
  return size.value();
}

void huge_free(void* p) {
  const uint64_t size = huge_size(p);
  if (size == 0) PANIC("kfree({}): not a live heap object (double free, or never allocated)", p);
  const uint64_t va = reinterpret_cast<uint64_t>(p) - base::kPageSize;
  const uint64_t span = huge_span(size);
  *reinterpret_cast<uint64_t*>(va) = 0;  // a racing second free finds no magic
  base::Status s = unmap_range(va, span);
  if (!s.ok()) PANIC("kfree({}): unmapping {} bytes: {}", p, span, base::error_name(s.error()));
  s = kva_free(va, span);
  if (!s.ok()) PANIC("kfree({}): {}", p, base::error_name(s.error()));
  huge_objects.fetch_sub(1, base::MemoryOrder::kRelaxed);
  huge_bytes.fetch_sub(size, base::MemoryOrder::kRelaxed);
}

}  // namespace

void heap_init(bool poison) {
  ASSERT_MSG(!ready, "heap_init called twice");
  base::Status s = central.init(HeapPageSource{heap_pages, heap_pages_free, nullptr}, HeapOptions{.poison = poison});
  if (!s.ok()) PANIC("heap_init: {}", base::error_name(s.error()));
  for (auto& c : caches) c.init(&central);
  heap_cpu_online(arch::this_cpu().index);
  ready = true;
}

void heap_cpu_online(uint32_t cpu) {
  ASSERT_MSG(cpu < arch::kMaxCpus && arch::this_cpu().index == cpu, "heap_cpu_online({}) on CPU {}", cpu,
             arch::this_cpu().index);
  arch::this_cpu().heap_cache = &caches[cpu];
}

namespace {

[[gnu::noinline]] void* kmalloc_failed(size_t size, base::Error e) {
  if (e == base::Error::kFault) PANIC("kmalloc({}): {}", size, kHeapErrPoison);
  return nullptr;
}

// Everything but the fast paths: huge objects, the cache's slow paths.
[[gnu::noinline]] void* kmalloc_slow(size_t size) {
  if (size > kHugeThreshold) return huge_alloc(size);
  base::Result<void*> r = with_cache([&](Cache& c) { return c.alloc(size); });
  return r.ok() ? r.value() : kmalloc_failed(size, r.error());
}

[[noreturn, gnu::noinline]] void kfree_failed(void* p, const char* why) {
  PANIC("kfree({}): {}", p, why ? why : "invalid free");
}

// Everything but the fast path: `fast_why` is the fast path's answer (an
// error, or kHeapTryFreeSlow).
[[gnu::noinline]] void kfree_slow(void* p, const char* fast_why) {
  if (fast_why != kHeapTryFreeSlow) kfree_failed(p, fast_why);
  if (is_huge(p)) return huge_free(p);
  const char* why = nullptr;
  base::Status s = with_cache([&](Cache& c) {
    base::Status st = c.free(p);
    if (!st.ok()) why = c.last_error();
    return st;
  });
  if (!s.ok()) kfree_failed(p, why);
}

}  // namespace

// kmalloc and kfree of small objects: the heap cache's fast paths alone
// between the interrupt save and restore (they call nothing, so no register
// lives across a call and there is no stack frame to speak of), everything
// else out of line and redone from the start with interrupts back on.
void* kmalloc(size_t size) {
  DEBUG_ASSERT(ready);
  if (__builtin_expect(size <= kHeapMaxSmallSize, 1)) {
    const uint64_t irq = arch::irq_save();
    void* p = this_cache().try_alloc(size);
    if (__builtin_expect(p != nullptr, 1)) {
      arch::irq_restore(irq);
      return p;
    }
    arch::irq_restore(irq);
  }
  return kmalloc_slow(size);
}

// Huge objects take the slow path without a test of their own: their
// pages are not in the heap's page map, so try_free() answers
// kHeapTryFreeSlow.
void kfree(void* p) {
  if (p == nullptr) return;
  const uint64_t irq = arch::irq_save();
  const char* why = this_cache().try_free(p);
  arch::irq_restore(irq);
  if (__builtin_expect(why != nullptr, 0)) kfree_slow(p, why);
}

void* krealloc(void* p, size_t size) {
  if (p == nullptr) return kmalloc(size);
  const size_t old = kmalloc_usable_size(p);
  if (is_huge(p) || size > kHugeThreshold) {
    if (is_huge(p) && size <= old && size > kHugeThreshold) return p;
    void* q = kmalloc(size);
    if (q == nullptr) return nullptr;
    __builtin_memcpy(q, p, old < size ? old : size);
    kfree(p);
    return q;
  }
  const char* why = nullptr;
  base::Result<void*> r = with_cache([&](Cache& c) {
    base::Result<void*> q = c.realloc(p, size);
    if (!q.ok()) why = c.last_error();
    return q;
  });
  if (r.ok()) return r.value();
  if (r.error() == base::Error::kOutOfMemory) return nullptr;
  PANIC("krealloc({}, {}): {}", p, size, why ? why : "invalid pointer");
}

size_t kmalloc_usable_size(const void* p) {
  if (is_huge(p)) {
    uint64_t size = huge_size(p);
    if (size == 0) PANIC("kmalloc_usable_size({}): not a live heap object", p);
    return size;
  }
  base::Result<size_t> n = with_cache([&](Cache& c) { return c.usable_size(p); });
  if (!n.ok()) PANIC("kmalloc_usable_size({}): not a live heap object", p);
  return n.value();
}

KernelHeapStats heap_stats() {
  KernelHeapStats s{};
  s.heap = central.stats();
  s.huge_live_objects = huge_objects.load(base::MemoryOrder::kRelaxed);
  s.huge_live_bytes = huge_bytes.load(base::MemoryOrder::kRelaxed);
  return s;
}

}  // namespace mm

// C++ allocation for the whole kernel. Without exceptions a failed new
// cannot throw: running out of memory in `new` is fatal, and code that can
// cope uses kmalloc.
void* operator new(decltype(sizeof 0) size) {
  void* p = mm::kmalloc(size);
  if (p == nullptr) PANIC("operator new({}): out of memory", size);
  return p;
}
void* operator new[](decltype(sizeof 0) size) { return operator new(size); }
void operator delete(void* p) noexcept { mm::kfree(p); }
void operator delete[](void* p) noexcept { mm::kfree(p); }
void operator delete(void* p, decltype(sizeof 0)) noexcept { mm::kfree(p); }
void operator delete[](void* p, decltype(sizeof 0)) noexcept { mm::kfree(p); }
