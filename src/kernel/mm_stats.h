// The monitor's view of memory management: page-allocator counters (and,
// once present, the heap's per-class counters).
#pragma once

namespace kernel {

/// Prints the page allocator's totals and free blocks per order.
void print_mm_stats();

}  // namespace kernel
