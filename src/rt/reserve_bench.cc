// Heap reservations (`bench=rt`): reserve+release on the fast path (this
// CPU's credit covers it), sparse (a want of two classes) and vector (a
// want of every class), and kmalloc(64)+kfree charged to a reservation;
// guest instructions per pair under --icount.
#include "src/ktest/bench.h"
#include "src/mm/kmalloc.h"
#include "src/rt/reserve.h"

namespace rt {
namespace {

constexpr uint64_t kIters = 5000;

constexpr Objs bench_want() {
  Objs o{};
  o[mm::size_to_class(64)] = 2;
  o[mm::size_to_class(256)] = 1;
  return o;
}
constinit ReserveSite bench_site{"bench.rt", bench_want()};

constexpr Objs dense_want() {
  Objs o{};
  for (unsigned c = 0; c < kObjsClasses; ++c) o[c] = 1;
  return o;
}
constinit ReserveSite dense_site{"bench.rt_dense", dense_want()};

BENCH_N(rt, reserve_release_fast_path, kIters) {
  {
    Reservation warm(bench_site);  // fills this CPU's credit: the rest hit it
    if (!warm.ok()) return run.skip("no heap budget");
  }
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    Reservation r(bench_site);
    asm volatile("" ::"r"(&r) : "memory");
  }
  run.stop();
}

BENCH_N(rt, reserve_release_vector_path, kIters) {
  {
    Reservation warm(dense_site);
    if (!warm.ok()) return run.skip("no heap budget");
  }
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    Reservation r(dense_site);
    asm volatile("" ::"r"(&r) : "memory");
  }
  run.stop();
}

BENCH_N(rt, kmalloc_kfree_64_charged, kIters) {
  Reservation r(bench_site);
  if (!r.ok()) return run.skip("no heap budget");
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    void* p = mm::kmalloc(64);
    asm volatile("" ::"r"(p) : "memory");
    mm::kfree(p);
  }
  run.stop();
}

}  // namespace
}  // namespace rt
