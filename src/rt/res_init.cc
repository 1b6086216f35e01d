// See res_init.h.
#include "src/rt/res_init.h"

#include "src/arch/console.h"
#include "src/mm/kmalloc.h"
#include "src/monitor/boot_options.h"
#include "src/rt/reserve.h"

namespace rt {

void res_init(base::StrView cmdline, uint64_t usable_bytes) {
  // A bad value of either was named at boot (check_boot_options).
  const uint64_t max = monitor::boot_option_bytes(cmdline, "rt.max_heap").value_or(usable_bytes);
  const bool panics = monitor::boot_option_is(cmdline, "rt.overrun", "panic");
  mm::heap_set_overrun_panics(panics);
  internal::drain_init();
  base::Status s = set_max_heap(max);
  ASSERT_MSG(s.ok(), "rt: set_max_heap({}) refused", max);
  const mm::KernelHeapStats heap = mm::heap_stats();
  arch::kprint("rt: heap maximum {} bytes ({} MiB), {} live at boot; overruns {}\n", max, max >> 20,
               heap.heap.small_live_bytes + heap.heap.large_live_bytes + heap.huge_live_bytes,
               panics ? "panic" : "are reported");
}

}  // namespace rt
