// What a TLB shootdown must invalidate: a short list of page ranges, or
// "everything" once per-page INVLPG would cost more than a full flush.
// Pure logic (host-tested); tlb.h sends it to other CPUs.
#pragma once

#include "src/base/addr.h"
#include "src/base/types.h"

namespace mm {

/// Ranges one shootdown carries; more turn it into a full flush.
inline constexpr uint32_t kTlbMaxRanges = 8;
/// Pages above which a full flush is cheaper than INVLPG per page. Linux
/// settled on 33 (tlb_single_page_flush_ceiling) after measuring; a flush
/// that drops global entries costs a CR4 write pair plus the refills.
inline constexpr uint64_t kTlbInvlpgMaxPages = 32;

/// One range. `va` is the raw address so that TlbRange stays trivially
/// constructible: TlbRanges leaves its unused slots unwritten (see below),
/// and a base::VirtAddr member would zero them. add() and for_each_page()
/// are the typed way in and out.
struct TlbRange {
  uint64_t va;
  uint64_t pages;
};

class TlbRanges {
 public:
  /// Empty. The slots past count() are never read, so they are left
  /// uninitialised: one of these is built on every unmap, and zeroing its
  /// 128 bytes cost more than the rest of unmapping a page's bookkeeping.
  constexpr TlbRanges() {}
  /// Empty with every slot zeroed, for constant initialisation (constinit).
  struct ZeroInit {};
  explicit constexpr TlbRanges(ZeroInit) : ranges_{} {}

  /// Adds [va, va + pages * 4 KiB). Extends the last range when contiguous;
  /// becomes full() past kTlbMaxRanges ranges or kTlbInvlpgMaxPages pages.
  constexpr void add(base::VirtAddr start, uint64_t pages) {
    const uint64_t va = start.value();
    if (full_ || pages == 0) return;
    pages_ += pages;
    if (pages_ > kTlbInvlpgMaxPages) {
      set_full();
      return;
    }
    if (count_ > 0 && ranges_[count_ - 1].va + ranges_[count_ - 1].pages * base::kPageSize == va) {
      ranges_[count_ - 1].pages += pages;
      return;
    }
    if (count_ == kTlbMaxRanges) {
      set_full();
      return;
    }
    ranges_[count_++] = TlbRange{va, pages};
  }

  /// Everything: a full flush.
  constexpr void set_full() {
    full_ = true;
    count_ = 0;
  }

  constexpr void clear() {
    full_ = false;
    count_ = 0;
    pages_ = 0;
  }

  constexpr bool full() const { return full_; }
  constexpr bool empty() const { return !full_ && count_ == 0; }
  constexpr uint32_t count() const { return count_; }
  constexpr const TlbRange& operator[](uint32_t i) const { return ranges_[i]; }

  /// Calls fn(base::VirtAddr) for every page to INVLPG (nothing when full()).
  template <typename Fn>
  constexpr void for_each_page(Fn fn) const {
    for (uint32_t i = 0; i < count_; ++i)
      for (uint64_t p = 0; p < ranges_[i].pages; ++p) fn(base::VirtAddr(ranges_[i].va + p * base::kPageSize));
  }

 private:
  TlbRange ranges_[kTlbMaxRanges];  // [0, count_) valid
  uint32_t count_ = 0;
  uint64_t pages_ = 0;
  bool full_ = false;
};

}  // namespace mm
