// Fault injection in the kernel (issue 16, item 3): with `fail.page=P`,
// `fail.heap=P` or `fail.reserve=P` (per mille) on the command line,
// page_alloc, kmalloc and rt's reserve fail at random, by per-CPU streams
// seeded from `fail.seed` (fault_injection.h).
//
// Only inside a FaultScope. A failure is injected only into a call made by
// a thread that has opened a scope, from thread context with interrupts
// on. So boot is never touched (its allocations are a panic-on-failure
// path by design: a kernel that cannot allocate its command line cannot
// run), and neither is any code that has not declared it copes: the
// scheduler's thread descriptors, operator new (which has no way to report
// a failure and panics), interrupt handlers, the other CPUs' work. The
// torture that opens the scope (src/rt/fail_inject_ktest.cc) reaches page_
// alloc, kmalloc, kfree and Reservation, each of which reports failure
// cleanly; the calls the heap makes into page_alloc for its spans run with
// interrupts off and are not injected (the heap's handling of a page
// failure is host-tested in heap_core_test).
//
// Also never injected: kmalloc inside a granted reservation. A reservation
// promises its allocations (reserve.h): its failure point is the reserve.
//
// Cost when off (no fail.* option): nothing on the fast paths. Armed
// before mm starts (kmain, from the early command line), injection makes
// each allocator route every call through the slow path it has anyway,
// where the decision is taken: page_alloc's order-0 test reads a flag set
// at init from poison mode or fail_armed(), kmalloc's size test compares
// against a bound that is 0 when armed, and rt leaves sites' sparse fast
// path closed. Only the paths that were slow already test fail_armed():
// one load of a read-mostly byte and a branch predicted not taken.
#pragma once

#include "src/base/types.h"
#include "src/mm/fault_injection.h"

namespace mm {

namespace internal {
/// True once fail_inject_init was given a nonzero rate; never changes after.
extern bool fail_armed;
}  // namespace internal

/// Whether any injection may happen: the fast paths' one test.
[[gnu::always_inline]] inline bool fail_armed() { return __builtin_expect(internal::fail_armed, 0); }

/// Sets the rates and seeds every CPU's stream. Boot CPU, once, before mm
/// starts (page_alloc_init and heap_init read fail_armed()), so before
/// any FaultScope opens (kmain, from the boot options).
void fail_inject_init(const FaultConfig& config);

/// The rates in force.
const FaultConfig& fail_inject_config();

/// Whether this call at `site` fails: true only when armed, inside a
/// scope, from thread context with interrupts on (and for kHeap outside a
/// reservation), and this CPU's stream says so. Out of line: callers test
/// fail_armed() first. Any context (it declines where it does not apply).
[[gnu::noinline]] bool fail_inject_now(FaultSite site);

/// Opens injection for the running thread until destroyed. Thread context;
/// at most kMaxFaultScopes threads at once, not nested on one thread
/// (panics: a test's bookkeeping is broken).
class FaultScope {
 public:
  FaultScope();
  ~FaultScope();
  FaultScope(const FaultScope&) = delete;
  FaultScope& operator=(const FaultScope&) = delete;

 private:
  unsigned slot_;
};
inline constexpr unsigned kMaxFaultScopes = 64;

/// Sums of every CPU's counters (read racily while injection runs).
struct FaultCounts {
  uint64_t draws[kFaultSites];
  uint64_t injected[kFaultSites];
  uint64_t injected_at(FaultSite s) const { return injected[static_cast<unsigned>(s)]; }
};
FaultCounts fail_inject_counts();

}  // namespace mm
