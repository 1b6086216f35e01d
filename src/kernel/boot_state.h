// What boot learned, for kmain's banner lines (the `mem` command reads
// mm's own record of usable memory, kernel_vm.h).
#pragma once

#include "src/base/addr.h"
#include "src/base/str.h"
#include "src/base/types.h"

namespace kernel {

struct BootState {
  base::StrView cmdline;
  base::StrView boot_loader;
  uint64_t usable_bytes = 0;  // sanitised usable RAM minus carve-outs
  base::PhysAddr highest_usable_end{0};
  size_t memory_ranges = 0;
};

}  // namespace kernel
