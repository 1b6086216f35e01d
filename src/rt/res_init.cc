// See res_init.h.
#include "src/rt/res_init.h"

#include "src/arch/console.h"
#include "src/base/byte_size.h"
#include "src/mm/kmalloc.h"
#include "src/monitor/cmdline.h"
#include "src/rt/reserve.h"

namespace rt {

void res_init(base::StrView cmdline_text, uint64_t usable_bytes) {
  monitor::Cmdline cmdline(cmdline_text);
  bool found = false;
  uint64_t max = usable_bytes;
  base::StrView text = cmdline.get("rt.max_heap", &found);
  if (found) {
    base::Result<uint64_t> bytes = base::parse_byte_size(text);
    if (!bytes.ok() || bytes.value() == 0 || bytes.value() > static_cast<uint64_t>(mm::kHeapBootBudget)) {
      arch::kprint("rt.max_heap={}: expected a byte count from 1 to 2^60 (K, M, G suffixes); using {} bytes\n", text,
                   max);
    } else {
      max = bytes.value();
    }
  }
  bool panics = false;
  text = cmdline.get("rt.overrun", &found);
  if (found) {
    if (text == base::StrView("panic")) {
      panics = true;
    } else if (!(text == base::StrView("report"))) {
      arch::kprint("rt.overrun={}: expected report or panic; reporting\n", text);
    }
  }
  mm::heap_set_overrun_panics(panics);
  base::Status s = set_max_heap(max);
  ASSERT_MSG(s.ok(), "rt: set_max_heap({}) refused", max);
  const mm::KernelHeapStats heap = mm::heap_stats();
  arch::kprint("rt: heap maximum {} bytes ({} MiB), {} live at boot; overruns {}\n", max, max >> 20,
               heap.heap.small_live_bytes + heap.heap.large_live_bytes + heap.huge_live_bytes,
               panics ? "panic" : "are reported");
}

}  // namespace rt
