// See kmalloc.h.
#include "src/mm/kmalloc.h"

#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/spinlock.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/mm/alloc_map.h"
#include "src/mm/direct_map.h"
#include "src/mm/fail_inject.h"
#include "src/mm/heap_cache.h"
#include "src/mm/heap_charge.h"
#include "src/mm/heap_overrun_sites.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/mm/safe_access.h"

namespace mm {

// Sizes kmalloc's fast path serves: every small size, or none with fault
// injection armed, so that every kmalloc reaches kmalloc_slow, where
// fail.heap is decided, at no cost to the fast path (the same one compare,
// against memory instead of an immediate). Read-mostly, set by heap_init.
// External linkage on purpose: file-local, clang sees its only two values
// and turns the compare into four instructions.
namespace internal {
constinit size_t kmalloc_fast_max = kHeapMaxSmallSize;
}  // namespace internal
using internal::kmalloc_fast_max;

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

// The heap budget. Until rt sets the maximum, boot runs on this one, far
// above any RAM: Biscuit's large boot reservation.
constinit HeapBudget budget{kHeapBootBudget};
HeapCharge cpu_charges[arch::kMaxCpus];  // by CPU index; PerCpu::heap_cpu_charge points here
constinit bool overrun_panics = false;
constinit OverrunSites<512> overrun_sites;
constinit base::Atomic<uint64_t> overruns_total{0}, overrun_sites_untracked{0};
// Bytes of objects above 4 KiB, charged to the budget directly.
constinit base::Atomic<uint64_t> large_charged{0};

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
  base::Result<base::PhysAddr> p = page_alloc(order);
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

// The account this CPU charges now (interrupts off, as for this_cache).
HeapCharge& this_charge() {
  HeapCharge* c;
  asm volatile("mov %%gs:%c1, %0" : "=r"(c) : "i"(__builtin_offsetof(arch::PerCpu, heap_charge)));
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
  base::Result<base::VirtAddr> va = kva_alloc(span);
  if (!va.ok()) return nullptr;
  if (!alloc_map_range(va.value(), span, kPermWrite).ok()) {
    (void)kva_free(va.value(), span);
    return nullptr;
  }
  *base::as_ptr<HugeHeader>(va.value()) = HugeHeader{kHugeMagic, size};
  huge_objects.fetch_add(1, base::MemoryOrder::kRelaxed);
  huge_bytes.fetch_add(size, base::MemoryOrder::kRelaxed);
  return base::as_ptr(va.value() + base::kPageSize);
}

// The header of a huge object, or 0 for a pointer that is not one (read by
// probes: after a free the header is unmapped).
uint64_t huge_size(const void* p) {
  uint64_t a = reinterpret_cast<uint64_t>(p);
  if (a % base::kPageSize != 0) return 0;
  base::Result<uint64_t> magic = safe_read64(base::VirtAddr(a - base::kPageSize));
  base::Result<uint64_t> size = safe_read64(base::VirtAddr(a - base::kPageSize + 8));
  if (!magic.ok() || !size.ok() || magic.value() != kHugeMagic) return 0;
  return size.value();
}

void huge_free(void* p) {
  const uint64_t size = huge_size(p);
  if (size == 0) PANIC("kfree({}): not a live heap object (double free, or never allocated)", p);
  const base::VirtAddr va = base::virt_of(p) - base::kPageSize;
  const uint64_t span = huge_span(size);
  *base::as_ptr<uint64_t>(va) = 0;  // a racing second free finds no magic
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
  for (auto& c : cpu_charges) c.per_cpu = true;
  heap_cpu_online(arch::this_cpu().index);
  // Armed before mm starts (kmain). kmalloc(0) still takes the fast path
  // then: the one size injection misses.
  if (fail_armed()) kmalloc_fast_max = 0;
  ready = true;
}

void heap_cpu_online(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  ASSERT_MSG(cpu < arch::kMaxCpus && arch::this_cpu().index.value == cpu, "heap_cpu_online({}) on CPU {}", cpu,
             arch::this_cpu().index.value);
  arch::PerCpu& pc = arch::this_cpu();
  pc.heap_cache = &caches[cpu];
  pc.heap_cpu_charge = &cpu_charges[cpu];
  pc.heap_charge = &cpu_charges[cpu];
}

namespace {

// A reservation overran at `site` (the heap's caller): report it the first
// time from there, with the frames above it. Interrupts off.
void report_overrun(unsigned cls, uint64_t site) {
  overruns_total.fetch_add(1, base::MemoryOrder::kRelaxed);
  const auto seen = overrun_sites.insert(site);
  if (seen == OverrunSites<512>::Insert::kSeen) return;
  if (seen == OverrunSites<512>::Insert::kFull) overrun_sites_untracked.fetch_add(1, base::MemoryOrder::kRelaxed);
  if (overrun_panics)
    PANIC("heap: a {}-byte allocation at {:#x} overran its reservation (rt.overrun=panic)", heap_class(cls).size, site);
  arch::kprint("heap: a {}-byte allocation at {:#x} overran its reservation{}\n", heap_class(cls).size, site,
               seen == OverrunSites<512>::Insert::kFull ? " (site table full: may repeat)" : "");
  // The frame chain from here, through safe reads: whatever the stack
  // holds, a report never faults.
  uint64_t rbp = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
  arch::kprint("  backtrace:");
  for (int depth = 0; depth < 12 && rbp != 0 && rbp % 8 == 0; ++depth) {
    base::Result<uint64_t> next = safe_read64(base::VirtAddr(rbp));
    base::Result<uint64_t> ret = safe_read64(base::VirtAddr(rbp + 8));
    if (!next.ok() || !ret.ok()) break;
    arch::kprint(" {:#x}", ret.value());
    if (next.value() <= rbp) break;
    rbp = next.value();
  }
  arch::kprint("\n");
}

// heap_charge_alloc() said `used` passed `limit`. Interrupts off.
[[gnu::noinline]] void charge_slow(HeapCharge& c, unsigned cls, uint64_t site) {
  if (c.per_cpu) return heap_charge_refill(c, cls, budget);
  heap_charge_overrun(c, cls, budget);
  report_overrun(cls, site);
}

// Charges a small object just allocated. Interrupts off.
[[gnu::always_inline]] inline void charge(unsigned cls, uint64_t site) {
  HeapCharge& c = this_charge();
  if (__builtin_expect(heap_charge_alloc(c, cls), 0)) charge_slow(c, cls, site);
}

[[gnu::noinline]] void* kmalloc_failed(size_t size, base::Error e) {
  if (e == base::Error::kFault) PANIC("kmalloc({}): {}", size, kHeapErrPoison);
  return nullptr;
}

// Everything but the fast paths: huge objects, large ones (charged to the
// budget in bytes: reservations count the small classes), the cache's slow
// paths, and with fault injection armed every allocation, of which
// fail.heap fails some (fail_inject.h: inside a FaultScope, outside a
// reservation) as when memory is exhausted. Not for operator new
// (`may_inject` false): it cannot report a failure (it panics), so a
// failure injected there would only test the panic.
[[gnu::noinline]] void* kmalloc_slow(size_t size, uint64_t site, bool may_inject) {
  if (fail_armed() && may_inject && fail_inject_now(FaultSite::kHeap)) return nullptr;
  if (size > kHugeThreshold) {
    void* p = huge_alloc(size);
    if (p != nullptr) budget.force_take(static_cast<int64_t>(size));
    return p;
  }
  base::Result<void*> r = with_cache([&](Cache& c) {
    base::Result<void*> q = c.alloc(size);
    if (q.ok() && size <= kHeapMaxSmallSize) charge(size_to_class(size), site);
    return q;
  });
  if (!r.ok()) return kmalloc_failed(size, r.error());
  if (size > kHeapMaxSmallSize) {
    const uint64_t bytes = base::align_up(size, base::kPageSize);
    budget.force_take(static_cast<int64_t>(bytes));
    large_charged.fetch_add(bytes, base::MemoryOrder::kRelaxed);
  }
  return r.value();
}

[[noreturn, gnu::noinline]] void kfree_failed(void* p, const char* why) {
  PANIC("kfree({}): {}", p, why ? why : "invalid free");
}

// Everything but the fast path: `fast_why` is the fast path's answer (an
// error, or kHeapTryFreeSlow).
[[gnu::noinline]] void kfree_slow(void* p, const char* fast_why) {
  if (fast_why != kHeapTryFreeSlow) kfree_failed(p, fast_why);
  if (is_huge(p)) {
    const int64_t size = static_cast<int64_t>(huge_size(p));
    huge_free(p);
    budget.give(size);
    return;
  }
  const char* why = nullptr;
  uint64_t large_bytes = 0;
  base::Status s = with_cache([&](Cache& c) {
    base::Result<size_t> usable = c.usable_size(p);
    unsigned cls = kHeapNumClasses;
    base::Status st = c.free(p, &cls);
    if (!st.ok()) {
      why = c.last_error();
    } else if (cls < kHeapNumClasses) {
      HeapCharge& acct = this_charge();
      heap_charge_free(acct, cls);
      // A full bin means many frees here: the CPU's account may be holding
      // credit for objects allocated elsewhere.
      if (acct.per_cpu) heap_charge_trim(acct, cls, budget);
    } else if (usable.ok()) {
      large_bytes = usable.value();
    }
    return st;
  });
  if (!s.ok()) kfree_failed(p, why);
  if (large_bytes != 0) {
    budget.give(static_cast<int64_t>(large_bytes));
    large_charged.fetch_sub(large_bytes, base::MemoryOrder::kRelaxed);
  }
}

// kmalloc and operator new: the heap cache's fast path and the charge
// alone between the interrupt save and restore, everything else out of
// line and redone from the start with interrupts back on. `site` (the
// caller) is only read when a reservation overruns.
template <bool kMayInject = true>
[[gnu::always_inline]] inline void* kmalloc_from(size_t size, uint64_t site) {
  DEBUG_ASSERT(ready);
  if (__builtin_expect(size <= kmalloc_fast_max, 1)) {
    const uint64_t irq = arch::irq_save();
    void* p = this_cache().try_alloc(size);
    if (__builtin_expect(p != nullptr, 1)) {
      charge(size_to_class(size), site);
      arch::irq_restore(irq);
      return p;
    }
    arch::irq_restore(irq);
  }
  return kmalloc_slow(size, site, kMayInject);
}

}  // namespace

void* kmalloc(size_t size) { return kmalloc_from(size, reinterpret_cast<uint64_t>(__builtin_return_address(0))); }

// Huge objects take the slow path without a test of their own: their
// pages are not in the heap's page map, so try_free() answers
// kHeapTryFreeSlow.
void kfree(void* p) {
  if (p == nullptr) return;
  const uint64_t irq = arch::irq_save();
  unsigned cls;
  const char* why = this_cache().try_free(p, cls);
  // Two exits rather than one test of `why` before and after the restore:
  // the common one then carries no flag across it.
  if (__builtin_expect(why == nullptr, 1)) {
    heap_charge_free(this_charge(), cls);
    arch::irq_restore(irq);
    return;
  }
  arch::irq_restore(irq);
  kfree_slow(p, why);
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
  // Same class (or page count): nothing moves and nothing is charged.
  // Otherwise through kmalloc and kfree, so both objects are charged.
  if (old <= kHeapMaxSmallSize ? size <= kHeapMaxSmallSize && size_to_class(size) == size_to_class(old)
                               : size > kHeapMaxSmallSize && base::align_up(size, base::kPageSize) == old) {
    return p;
  }
  void* q = kmalloc_from(size, reinterpret_cast<uint64_t>(__builtin_return_address(0)));
  if (q == nullptr) return nullptr;
  __builtin_memcpy(q, p, old < size ? old : size);
  kfree(p);
  return q;
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

HeapBudget& heap_budget() { return budget; }

const HeapCharge& heap_cpu_charge(arch::CpuIndex cpu) {
  ASSERT_MSG(cpu.value < arch::kMaxCpus, "heap_cpu_charge({}): no such CPU", cpu.value);
  return cpu_charges[cpu.value];
}

void heap_set_overrun_panics(bool panics) { overrun_panics = panics; }

uint64_t heap_cpu_charge_flush() {
  const uint64_t irq = arch::irq_save();
  HeapCharge& c = *arch::this_cpu().heap_cpu_charge;
  int64_t bytes = 0;
  for (unsigned cls = 0; cls < kHeapNumClasses; ++cls) bytes += heap_charge_give_back(c, cls, budget, 0);
  arch::irq_restore(irq);
  return static_cast<uint64_t>(bytes);
}

HeapChargeStats heap_charge_stats() {
  HeapChargeStats s{};
  s.overruns = overruns_total.load(base::MemoryOrder::kRelaxed);
  s.overrun_sites = overrun_sites.count();
  s.overrun_sites_untracked = overrun_sites_untracked.load(base::MemoryOrder::kRelaxed);
  s.large_charged_bytes = large_charged.load(base::MemoryOrder::kRelaxed);
  s.huge_charged_bytes = huge_bytes.load(base::MemoryOrder::kRelaxed);
  return s;
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
  void* p = mm::kmalloc_from</*kMayInject=*/false>(size, reinterpret_cast<uint64_t>(__builtin_return_address(0)));
  if (p == nullptr) PANIC("operator new({}): out of memory", size);
  return p;
}
void* operator new[](decltype(sizeof 0) size) { return operator new(size); }
void operator delete(void* p) noexcept { mm::kfree(p); }
void operator delete[](void* p) noexcept { mm::kfree(p); }
void operator delete(void* p, decltype(sizeof 0)) noexcept { mm::kfree(p); }
void operator delete[](void* p, decltype(sizeof 0)) noexcept { mm::kfree(p); }
