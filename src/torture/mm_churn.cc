// See mm_churn.h.
#include "src/torture/mm_churn.h"

#include "src/arch/smp_boot.h"
#include "src/ktest/fill_pattern.h"
#include "src/mm/alloc_map.h"
#include "src/mm/direct_map.h"
#include "src/mm/heap_size_classes.h"
#include "src/mm/kmalloc.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/sched/sched.h"
#include "src/torture/churn_util.h"

namespace torture {
namespace {

using base::MemoryOrder;
using Worker = MmChurn::Worker;

constexpr uint64_t kPageMagic = 0x7047'0000'0000'0000;  // a block's first word: magic | its address
constexpr uint64_t kHeapMagic = 0x6865'6170'0000'0000;  // an object's first word: magic ^ address ^ size index
constexpr uint64_t kMapMagic = 0x6d61'7000'0000'0000;   // a mapped page's first word: magic | gen | slot | page

// Every small size class, then large sizes (page runs).
constexpr uint32_t kLargeSizes[] = {6000, 12'000, 65'536};
constexpr uint32_t kSizes = mm::kHeapNumClasses + sizeof(kLargeSizes) / sizeof(kLargeSizes[0]);
constexpr uint32_t size_of(uint32_t k) {
  return k < mm::kHeapNumClasses ? mm::heap_class(k).size : kLargeSizes[k - mm::kHeapNumClasses];
}

void free_page_slot(MmChurn& c, uint64_t v) {
  const uint64_t pa = v & ~uint64_t{base::kPageSize - 1};
  const unsigned order = static_cast<unsigned>(v & (base::kPageSize - 1));
  if (*static_cast<uint64_t*>(mm::phys_to_virt(base::PhysAddr(pa))) != (kPageMagic | pa))
    c.fail("a page block's tag changed while it was allocated");
  mm::page_free(base::PhysAddr(pa), order);
}

void free_heap_slot(MmChurn& c, uint64_t v) {
  auto* p = reinterpret_cast<uint64_t*>(v);
  const uint64_t k = p[0] ^ kHeapMagic ^ v;
  if (k >= kSizes) {
    c.fail("a heap object's header changed while it was allocated");
    return;  // its size is unknown: leaked, and the leak check says so too
  }
  if (!ktest::pattern_intact(p + 1, size_of(static_cast<uint32_t>(k)) - 8))
    c.fail("a heap object's contents changed while it was allocated");
  mm::kfree(p);
}

void page_op(MmChurn& c, uint64_t r) {
  const unsigned order = static_cast<unsigned>(r % (MmChurn::kMaxPageOrder + 1));
  base::Result<base::PhysAddr> p = mm::page_alloc(order);
  if (!p.ok()) {
    if (p.error() != base::Error::kOutOfMemory) c.fail("page_alloc failed other than out of memory");
    c.oom_.fetch_add(1, MemoryOrder::kRelaxed);
    return;
  }
  *static_cast<uint64_t*>(mm::phys_to_virt(p.value())) = kPageMagic | p.value().value();
  // The slot packs the address and the order into one word.
  const uint64_t old =
      c.page_slots[(r >> 24) % MmChurn::kPageSlots].exchange(p.value().value() | order, MemoryOrder::kAcqRel);
  if (old != 0) free_page_slot(c, old);
  c.pages_.fetch_add(1, MemoryOrder::kRelaxed);
}

void heap_op(MmChurn& c, uint64_t r) {
  const uint32_t k = static_cast<uint32_t>(r % kSizes);
  auto* p = static_cast<uint64_t*>(mm::kmalloc(size_of(k)));
  if (p == nullptr) {
    c.oom_.fetch_add(1, MemoryOrder::kRelaxed);
    return;
  }
  p[0] = kHeapMagic ^ reinterpret_cast<uint64_t>(p) ^ k;
  ktest::fill_pattern(p + 1, size_of(k) - 8);
  const uint64_t old =
      c.heap_slots[(r >> 24) % MmChurn::kHeapSlots].exchange(reinterpret_cast<uint64_t>(p), MemoryOrder::kAcqRel);
  if (old != 0) free_heap_slot(c, old);
  c.objects_.fetch_add(1, MemoryOrder::kRelaxed);
}

uint64_t map_tag(const MmChurn::MapSlot& s, uint32_t slot, uint32_t page) REQUIRES(s.lock) {
  return kMapMagic | (s.gen << 16) | (uint64_t{slot} << 8) | page;
}

// Maps an unmapped slot (1 to 4 fresh pages, tagged) or unmaps a mapped
// one (after checking its tags), at the same VA each time: the unmap's
// shootdown must reach every CPU a reader touched it from.
void map_op(MmChurn& c, uint64_t r) {
  const uint32_t i = static_cast<uint32_t>(r % MmChurn::kMapSlots);
  MmChurn::MapSlot& s = c.map_slots[i];
  sched::MutexGuard g(s.lock);
  if (s.pages != 0) {
    for (uint32_t p = 0; p < s.pages; ++p) {
      if (*reinterpret_cast<const uint64_t*>(s.va + p * base::kPageSize) != map_tag(s, i, p))
        c.fail("a mapped page's tag changed before its unmap");
    }
    if (!mm::unmap_range(base::VirtAddr(s.va), s.pages * base::kPageSize).ok())
      c.fail("unmap_range of a mapped slot failed");
    s.pages = 0;
    return;
  }
  const uint32_t pages = 1 + static_cast<uint32_t>((r >> 8) % MmChurn::kMapMaxPages);
  base::Status st = mm::alloc_map_range(base::VirtAddr(s.va), pages * base::kPageSize, mm::kPermWrite);
  if (!st.ok()) {
    if (st.error() != base::Error::kOutOfMemory) c.fail("alloc_map_range failed other than out of memory");
    c.oom_.fetch_add(1, MemoryOrder::kRelaxed);
    return;
  }
  ++s.gen;
  for (uint32_t p = 0; p < pages; ++p) {
    auto* w = reinterpret_cast<uint64_t*>(s.va + p * base::kPageSize);
    w[0] = map_tag(s, i, p);
    w[1] = 0;
  }
  s.pages = pages;
  s.writer_cpu = cpu_now();
  c.maps_.fetch_add(1, MemoryOrder::kRelaxed);
}

// Reads a mapped slot's tags from wherever this reader runs now (it moves
// between CPUs), and writes and reads back a word of its own.
void read_op(Worker& worker, MmChurn& c, uint64_t r) {
  sched::Thread* me = sched::current();
  // Refused for a CPU going offline: then it stays where it is.
  worker.set_doing("read: set_affinity and yield to a CPU");
  (void)sched::set_affinity(me, below(r, 3) == 0
                                    ? sched::Affinity::any()
                                    : sched::Affinity::only(arch::CpuIndex(static_cast<uint32_t>(r % c.ncpu))));
  sched::yield();
  const uint32_t i = static_cast<uint32_t>((r >> 16) % MmChurn::kMapSlots);
  MmChurn::MapSlot& s = c.map_slots[i];
  worker.set_doing("read: a map slot's mutex, then its pages");
  sched::MutexGuard g(s.lock);
  if (s.pages == 0) return;
  const uint32_t cpu = cpu_now();
  for (uint32_t p = 0; p < s.pages; ++p) {
    auto* w = reinterpret_cast<volatile uint64_t*>(s.va + p * base::kPageSize);
    if (w[0] != map_tag(s, i, p)) {
      c.fail("a CPU read a mapped page's old or wrong contents (a missed TLB shootdown?)");
      return;
    }
    const uint64_t mine = map_tag(s, i, p) ^ (uint64_t{cpu} << 32) ^ 0xffff;
    w[1] = mine;
    if (w[1] != mine) c.fail("a word written through a fresh mapping did not read back");
  }
  if (cpu != s.writer_cpu) c.cross_.fetch_add(1, MemoryOrder::kRelaxed);
}

void run_worker(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  auto& c = static_cast<MmChurn&>(*w.owner);
  while (!c.stopping()) {
    c.checkpoint(w);
    const uint64_t r = next(w.rng);
    if (w.id < MmChurn::kPageHeapWorkers) {
      if (r & 1) {
        w.set_doing("page_alloc, page_free");
        page_op(c, r >> 1);
      } else {
        w.set_doing("kmalloc, kfree");
        heap_op(c, r >> 1);
      }
    } else if (w.id == MmChurn::kPageHeapWorkers) {
      w.set_doing("map or unmap a slot (a shootdown)");
      map_op(c, r);
      w.set_doing("yield");
      if ((r & 7) == 0) sched::yield();
    } else {
      read_op(w, c, r);
    }
  }
  (void)sched::set_affinity(sched::current(), sched::Affinity::any());
}

}  // namespace

base::Status MmChurn::setup() {
  for (MapSlot& s : map_slots) {
    base::Result<base::VirtAddr> va = mm::kva_alloc(kMapMaxPages * base::kPageSize);
    if (!va.ok()) return va.error();
    s.va = va.value().value();
    // Mapped whole once and unmapped, so that the page tables under the
    // slot exist before the leak check's baseline: tables are never freed,
    // and the warm-up's few maps (a dozen a second at 16 CPUs) leave most
    // slots untouched, so a table the run made first read as leaked pages.
    if (base::Status st = mm::alloc_map_range(va.value(), kMapMaxPages * base::kPageSize, mm::kPermWrite); !st.ok())
      return st;
    if (base::Status st = mm::unmap_range(va.value(), kMapMaxPages * base::kPageSize); !st.ok()) return st;
  }
  return base::Status();
}

base::Status MmChurn::start(Gate* g) {
  ncpu = arch::cpus_online();
  return spawn_workers(g, run_worker, 0xd1b5'4a32'd192'ed03ull);
}

void MmChurn::stop() {
  join_workers();
  for (auto& s : heap_slots) {
    const uint64_t v = s.exchange(0, MemoryOrder::kAcqRel);
    if (v != 0) free_heap_slot(*this, v);
  }
  for (auto& s : page_slots) {
    const uint64_t v = s.exchange(0, MemoryOrder::kAcqRel);
    if (v != 0) free_page_slot(*this, v);
  }
  for (MapSlot& s : map_slots) {
    sched::MutexGuard g(s.lock);
    if (s.pages == 0) continue;
    if (!mm::unmap_range(base::VirtAddr(s.va), s.pages * base::kPageSize).ok())
      fail("unmap_range of a mapped slot failed");
    s.pages = 0;
  }
}

void MmChurn::teardown() {
  for (MapSlot& s : map_slots) {
    if (s.va == 0) continue;
    if (!mm::kva_free(base::VirtAddr(s.va), kMapMaxPages * base::kPageSize).ok())
      fail("kva_free of a map slot's range failed");
    s.va = 0;
  }
}

}  // namespace torture
