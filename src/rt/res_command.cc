// `res`: the heap reservation accounting per size class and in total;
// `res sites`: each reservation site with its reservation, measured peak,
// overruns and a suggested size; `res max BYTES`: set_max_heap.
#include "src/arch/console.h"
#include "src/base/byte_size.h"
#include "src/mm/heap_size_classes.h"
#include "src/monitor/command.h"
#include "src/rt/evictable.h"
#include "src/rt/reserve.h"
#include "src/rt/reserve_stats.h"
#include "src/rt/site_suggestion.h"

namespace rt {
namespace {

int32_t as_signed(uint32_t v) { return static_cast<int32_t>(v); }

void print_accounting() {
  const ResSnapshot s = res_snapshot();
  arch::kprint("class   size       live  cpu credit   reserved     parked  outside\n");
  for (unsigned c = 0; c < kObjsClasses; ++c) {
    arch::kprint("{:5} {:6} {:10} {:11} {:10} {:10} {:8}\n", c, mm::heap_class(c).size, s.live[c], s.cpu_credit[c],
                 s.reserved[c], s.parked[c], as_signed(s.outside[c]));
  }
  arch::kprint(
      "maximum {} bytes; budget left {}; live {}; cpu credit {}; reserved {} in {} reservations; "
      "parked {} in {} threads; outside-reservation credit {}\n",
      s.max_bytes, s.budget_bytes, s.live_bytes, mm::class_counts_bytes(s.cpu_credit),
      mm::class_counts_bytes(s.reserved), s.reservations, mm::class_counts_bytes(s.parked), s.parked_threads,
      s.outside_credit_bytes);
  const int64_t drift = s.accounted_bytes() - s.max_bytes;
  arch::kprint("accounted {} bytes ({}; exact when quiescent)\n", s.accounted_bytes(),
               drift == 0 ? "= maximum" : "differs from the maximum while allocations run");
  arch::kprint(
      "reserves {} ({} from parked credit), robs {}, flushes {}, waits {} ({} us), timeouts {}, out of memory {}, "
      "cancels {}, drains {} (parkings reclaimed {}), evicted {} bytes, overruns {}\n",
      s.reserves, s.parked_reserves, s.robs, s.flushes, s.global.waits, s.global.wait_ns / 1000, s.global.timeouts,
      s.global.out_of_memory, s.global.cancels, s.global.drains, s.global.parked_reclaims, s.global.evicted_bytes,
      s.overruns);
}

void print_sites() {
  arch::kprint("{:<24} {:10} {:10} {:10} {:8}  classes (default/peak)\n", "site", "default", "peak", "suggested",
               "overruns");
  size_t n = 0;
  for_each_site([&](const ReserveSite& site) {
    ++n;
    const Objs peak = site.measured_peak();
    const Objs suggested = suggest_reservation(peak);
    arch::kprint("{:<24} {:10} {:10} {:10} {:8} ", site.name, mm::class_counts_bytes(site.want),
                 mm::class_counts_bytes(peak), mm::class_counts_bytes(suggested),
                 __atomic_load_n(&site.overruns, __ATOMIC_RELAXED));
    for (unsigned c = 0; c < kObjsClasses; ++c) {
      if (site.want[c] != 0 || peak[c] != 0) arch::kprint(" {}B:{}/{}", mm::heap_class(c).size, site.want[c], peak[c]);
    }
    arch::kprint("\n");
  });
  arch::kprint(
      "{} sites (bytes; default = the site's own reservation, which callers may override per call; "
      "suggested = peak + a quarter, at least one more object, per class)\n",
      n);
  for_each_evictable(
      [](const Evictable& e, void*) {
        arch::kprint("evictable cache {}: gave back {} bytes in {} evictions\n", e.name, e.evicted_bytes, e.evictions);
      },
      nullptr);
}

MONITOR_COMMAND(res, "[sites | max BYTES]", "heap reservations: accounting, sites, set the maximum") {
  if (args.size() == 0) {
    print_accounting();
    return true;
  }
  if (args == base::StrView("sites")) {
    print_sites();
    return true;
  }
  if (args.size() > 4 && base::StrView(args.data(), 4) == base::StrView("max ")) {
    base::StrView text(args.data() + 4, args.size() - 4);
    base::Result<uint64_t> bytes = base::parse_byte_size(text);
    base::Status s = bytes.ok() ? set_max_heap(bytes.value()) : base::Status(bytes.error());
    if (!s.ok()) {
      arch::kprint("res max {}: {} (a byte count from 1 to 2^60, K/M/G suffixes)\n", text, base::error_name(s.error()));
      return false;
    }
    arch::kprint("heap maximum now {} bytes\n", bytes.value());
    return true;
  }
  arch::kprint("res: unknown arguments '{}' (usage: res [sites | max BYTES])\n", args);
  return false;
}

}  // namespace
}  // namespace rt
