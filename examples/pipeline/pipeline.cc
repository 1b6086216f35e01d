// A three-stage pipeline over every CPU (README.md here). Each lane has a
// producer that numbers items, a worker that transforms each one under a
// heap reservation (rt), and a consumer that checks them in order; the
// stages hand items over through futex-backed rings (hand_off.h), and each
// consumer tells the application it is done with a Note. The stages of
// lane l run on CPUs l, l+1 and l+2 (mod the CPU count), so every hand-off
// crosses CPUs when there are two or more.
#include "examples/pipeline/hand_off.h"
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/base/placement_new.h"
#include "src/kernel/app.h"
#include "src/mm/heap_size_classes.h"
#include "src/mm/kmalloc.h"
#include "src/rt/reserve.h"
#include "src/sched/sched.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"

namespace pipeline {
namespace {

constexpr uint64_t kItemsPerLane = 20'000;
constexpr size_t kScratchWords = 8;
constexpr size_t kScratchBytes = kScratchWords * sizeof(uint64_t);
constexpr unsigned kScratchClass = mm::size_to_class(kScratchBytes);

constexpr rt::Objs one_scratch() {
  rt::Objs o{};
  o[kScratchClass] = 1;
  return o;
}

// What the worker reserves per item: one scratch object.
constinit rt::ReserveSite transform_site{"pipeline.transform", one_scratch()};

// The worker's transform, recomputed by the consumer to check each item.
constexpr uint64_t transformed(uint64_t v) { return kScratchWords * v + kScratchWords * (kScratchWords - 1) / 2; }

struct Lane {
  uint32_t index = 0;
  HandOff to_worker;
  HandOff to_consumer;
  sched::Note done;
  uint64_t bad_items = 0;        // consumer: items out of order or wrong
  uint64_t failed_reserves = 0;  // worker: reservations or allocations refused
  sched::Thread* threads[3] = {};
};

void produce(void* arg) {
  auto* lane = static_cast<Lane*>(arg);
  for (uint64_t i = 0; i < kItemsPerLane; ++i) lane->to_worker.put(i);
}

// Sums kScratchWords words v, v+1, ... held in a heap object: the object is
// what the reservation covers, so the allocation cannot fail half way.
uint64_t transform(Lane* lane, uint64_t v) {
  rt::Reservation r(transform_site, rt::ReserveWait{.timeout_ns = rt::ReserveWait::kForever});
  auto* scratch = r.ok() ? static_cast<uint64_t*>(mm::kmalloc(kScratchBytes)) : nullptr;
  if (scratch == nullptr) {
    ++lane->failed_reserves;
    return ~uint64_t{0};  // the consumer counts it as a bad item
  }
  for (size_t i = 0; i < kScratchWords; ++i) scratch[i] = v + i;
  uint64_t sum = 0;
  for (size_t i = 0; i < kScratchWords; ++i) sum += scratch[i];
  mm::kfree(scratch);
  return sum;
}

void work(void* arg) {
  auto* lane = static_cast<Lane*>(arg);
  for (uint64_t i = 0; i < kItemsPerLane; ++i) lane->to_consumer.put(transform(lane, lane->to_worker.take()));
}

void consume(void* arg) {
  auto* lane = static_cast<Lane*>(arg);
  for (uint64_t i = 0; i < kItemsPerLane; ++i) {
    if (lane->to_consumer.take() != transformed(i)) ++lane->bad_items;
  }
  lane->done.wakeup();
}

constexpr sched::ThreadFn kStages[3] = {produce, work, consume};
constexpr const char* kStageNames[3] = {"produce", "work", "consume"};

bool start_lane(Lane* lane, uint32_t ncpu) {
  for (uint32_t s = 0; s < 3; ++s) {
    const uint32_t cpu = (lane->index + s) % ncpu;
    base::Result<sched::Thread*> t = sched::spawn(
        kStages[s], lane,
        sched::ThreadOptions{.name = kStageNames[s], .affinity = sched::Affinity::only(arch::CpuIndex(cpu))});
    if (!t.ok()) {
      arch::kprint("pipeline: cannot start lane {}'s {} thread on CPU {}: {}\n", lane->index, kStageNames[s], cpu,
                   base::error_name(t.error()));
      return false;
    }
    lane->threads[s] = t.value();
  }
  return true;
}

}  // namespace
}  // namespace pipeline

void kernel::app_main() {
  using pipeline::Lane;
  const uint32_t ncpu = sched::sched_cpus();
  void* mem = mm::kmalloc(sizeof(Lane) * ncpu);
  if (mem == nullptr) {
    arch::kprint("pipeline: no memory for {} lanes\n", ncpu);
    kernel::app_power_off(false);
  }
  auto* lanes = new (mem) Lane[ncpu];
  const uint64_t start = arch::nanotime();
  for (uint32_t l = 0; l < ncpu; ++l) {
    lanes[l].index = l;
    // A lane missing a stage would never finish: end the run, failing.
    if (!pipeline::start_lane(&lanes[l], ncpu)) kernel::app_power_off(false);
  }
  uint64_t bad = 0, failed = 0, waits = 0;
  for (uint32_t l = 0; l < ncpu; ++l) {
    lanes[l].done.sleep();
    for (sched::Thread* t : lanes[l].threads) sched::join(t);
  }
  const uint64_t elapsed_ns = arch::nanotime() - start;
  for (uint32_t l = 0; l < ncpu; ++l) {
    Lane& lane = lanes[l];
    bad += lane.bad_items;
    failed += lane.failed_reserves;
    waits += lane.to_worker.producer_waits() + lane.to_worker.consumer_waits() + lane.to_consumer.producer_waits() +
             lane.to_consumer.consumer_waits();
  }
  const uint64_t items = pipeline::kItemsPerLane * ncpu;
  arch::kprint(
      "pipeline: {} lanes x 3 stages on {} CPUs: {} items in {} us, {} items/s; "
      "{} futex waits, {} bad items, {} refused reservations\n",
      ncpu, ncpu, items, elapsed_ns / 1000, elapsed_ns ? items * 1'000'000'000 / elapsed_ns : 0, waits, bad, failed);
  const bool ok = bad == 0 && failed == 0;
  mm::kfree(lanes);
  kernel::app_power_off(ok);
}
