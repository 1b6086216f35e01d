// The memory part of the combined torture: pages of orders 0 to 4 and heap
// objects of every size class (and a few large sizes) allocated on one CPU
// and, through shared slots, mostly freed on another; and kernel VA ranges
// mapped and unmapped again and again at the same addresses, each page
// tagged by its mapper and read back (and written) by readers that wander
// between CPUs. A reader that still reached the old frame after an unmap
// and a new map, through a TLB entry the shootdown missed, reads the wrong
// tag. Also checked: a block's tag and an object's fill survive until its
// free (nobody else was handed it), and every map, unmap and free
// succeeds (out of memory is counted, never a failure). Kernel only,
// thread context.
#pragma once
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/sched/sync.h"
#include "src/torture/gated_workers.h"

namespace torture {

class MmChurn : public GatedWorkers {
 public:
  MmChurn() : GatedWorkers("mm_churn", workers_, kWorkers) {}

  static constexpr uint32_t kPageHeapWorkers = 2;
  static constexpr uint32_t kMapReaders = 2;
  static constexpr uint32_t kWorkers = kPageHeapWorkers + 1 + kMapReaders;  // and one mapper
  static constexpr uint32_t kPageSlots = 64;
  static constexpr uint32_t kHeapSlots = 256;
  static constexpr uint32_t kMapSlots = 16;
  static constexpr uint32_t kMapMaxPages = 4;
  static constexpr unsigned kMaxPageOrder = 4;

  /// Reserves the map slots' VA ranges (kept until teardown) and makes
  /// the page tables under them.
  base::Status setup();
  /// Spawns the workers; they pass `gate` before each operation.
  base::Status start(Gate* gate);
  /// Stops and joins the workers and frees what the slots hold.
  void stop();
  /// Unmaps what is mapped and returns the VA ranges.
  void teardown();

  uint64_t pages() const { return pages_.load(base::MemoryOrder::kRelaxed); }
  uint64_t objects() const { return objects_.load(base::MemoryOrder::kRelaxed); }
  uint64_t maps() const { return maps_.load(base::MemoryOrder::kRelaxed); }
  uint64_t cross_cpu_reads() const { return cross_.load(base::MemoryOrder::kRelaxed); }
  uint64_t out_of_memory() const { return oom_.load(base::MemoryOrder::kRelaxed); }

  // The workers' side (mm_churn.cc).
  struct MapSlot {
    sched::Mutex lock;
    uint64_t va = 0;                      // set before the workers start, cleared after they end
    uint32_t pages GUARDED_BY(lock) = 0;  // mapped now (0: unmapped)
    uint32_t writer_cpu GUARDED_BY(lock) = 0;
    uint64_t gen GUARDED_BY(lock) = 0;
  };
  uint32_t ncpu = 1;
  base::Atomic<uint64_t> page_slots[kPageSlots];  // physical address | order
  base::Atomic<uint64_t> heap_slots[kHeapSlots];  // pointer (the object's first word says its size)
  MapSlot map_slots[kMapSlots];
  base::Atomic<uint64_t> pages_{0}, objects_{0}, maps_{0}, cross_{0}, oom_{0};

 private:
  Worker workers_[kWorkers];
};

}  // namespace torture
