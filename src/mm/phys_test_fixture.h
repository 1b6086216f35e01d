// The buddy allocator's host-test fixture, shared by phys_test and
// phys_deferred_test: host buffers standing in for physical memory, and an
// allocator over given ranges with its metadata buffer.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "src/mm/phys.h"
#include "src/mm/phys_raw_for_test.h"

namespace mm::phys_testing {

inline constexpr uint64_t kPage = base::kPageSize;
inline constexpr uint64_t kMiB = 1024 * 1024;
inline constexpr uint64_t kGiB = 1024 * kMiB;
inline constexpr uint64_t kTiB = 1024 * kGiB;

/// The pages of `ranges` (each a whole number of pages).
inline uint64_t total_pages(const std::vector<PhysRange>& ranges) {
  uint64_t n = 0;
  for (const PhysRange& r : ranges) n += r.size() / kPage;
  return n;
}

/// Host buffers standing in for physical memory, one per range, filled with
/// 0xEE (not zero: zeroing must be the allocator's).
class SimMemory {
 public:
  explicit SimMemory(std::vector<PhysRange> ranges) : ranges_(std::move(ranges)) {
    for (const PhysRange& r : ranges_) backing_.emplace_back(r.size(), 0xEE);
  }
  /// A PhysToPtr: `ctx` is the SimMemory.
  static uint8_t* to_ptr(void* ctx, base::PhysAddr pa) {
    auto* self = static_cast<SimMemory*>(ctx);
    const uint64_t phys = pa.value();
    for (size_t i = 0; i < self->ranges_.size(); ++i) {
      const PhysRange& r = self->ranges_[i];
      if (phys >= r.start.value() && phys < r.end.value()) return self->backing_[i].data() + (phys - r.start.value());
    }
    ADD_FAILURE() << "to_ptr outside simulated memory: 0x" << std::hex << phys;
    return nullptr;
  }
  uint8_t* at(uint64_t phys) { return to_ptr(this, base::PhysAddr(phys)); }

 private:
  std::vector<PhysRange> ranges_;
  std::vector<std::vector<uint8_t>> backing_;
};

/// Whether the allocator reaches the pages themselves (zeroing, poison)
/// through a SimMemory, or has no PhysToPtr (and the fixture no buffers).
enum class Backing { kSimulated, kNone };

/// An allocator over `ranges`, initialised, with its metadata buffer
/// (uint64_t elements: 8-byte aligned) holding garbage first, as RAM would.
struct PhysFixture {
  explicit PhysFixture(std::vector<PhysRange> r, PhysOptions options = {}, Backing backing = Backing::kSimulated)
      : ranges(std::move(r)),
        mem(backing == Backing::kSimulated ? ranges : std::vector<PhysRange>{}),
        meta((phys_metadata_bytes(span()) + 7) / 8, 0xA5A5A5A5A5A5A5A5ull) {
    base::Span<uint8_t> buf(reinterpret_cast<uint8_t*>(meta.data()), meta.size() * 8);
    const bool simulated = backing == Backing::kSimulated;
    base::Status s =
        pa.init(span(), buf, simulated ? &SimMemory::to_ptr : nullptr, simulated ? &mem : nullptr, options);
    EXPECT_TRUE(s.ok()) << (pa.last_error() ? pa.last_error() : "");
  }
  base::Span<const PhysRange> span() const { return {ranges.data(), ranges.size()}; }

  std::vector<PhysRange> ranges;
  SimMemory mem;
  std::vector<uint64_t> meta;
  RawPhysAllocator pa;  // integer addresses: the tests' arithmetic
};

}  // namespace mm::phys_testing
