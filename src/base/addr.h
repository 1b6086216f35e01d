// Physical and virtual addresses as distinct types. A uint64_t says nothing
// about which address space it is in, so `map_range(va, pa, bytes, perms)`
// took three swappable integers; with these, passing a physical address
// where a virtual one belongs (or a byte count where either belongs) does
// not compile. Construction is explicit, and `.value()` is the one way back
// to an integer, for page-table entries, asm and formatting. In base
// because both mm and arch (page tables, the trampoline, MMIO) need them.
// Pure logic, host-tested. Any context.
#pragma once

#include "src/base/types.h"

namespace base {

/// An address in one address space, told apart by `Tag`. Offsets are plain
/// byte counts: address + bytes is an address, address - address is bytes.
/// Nothing here checks for wrap-around; the callers check ranges as before.
template <typename Tag>
class Addr {
 public:
  constexpr Addr() = default;
  constexpr explicit Addr(uint64_t v) : v_(v) {}

  constexpr uint64_t value() const { return v_; }

  constexpr Addr operator+(uint64_t bytes) const { return Addr(v_ + bytes); }
  constexpr Addr operator-(uint64_t bytes) const { return Addr(v_ - bytes); }
  constexpr Addr& operator+=(uint64_t bytes) {
    v_ += bytes;
    return *this;
  }
  constexpr Addr& operator-=(uint64_t bytes) {
    v_ -= bytes;
    return *this;
  }
  /// The bytes from `o` up to this address (the caller knows o <= *this).
  constexpr uint64_t operator-(Addr o) const { return v_ - o.v_; }

  // Spelled out: <=> needs <compare>, which the freestanding kernel lacks.
  constexpr bool operator==(const Addr&) const = default;
  constexpr bool operator<(Addr o) const { return v_ < o.v_; }
  constexpr bool operator<=(Addr o) const { return v_ <= o.v_; }
  constexpr bool operator>(Addr o) const { return v_ > o.v_; }
  constexpr bool operator>=(Addr o) const { return v_ >= o.v_; }

  /// `a` a power of two, as base::is_aligned.
  constexpr bool is_aligned(uint64_t a) const { return base::is_aligned(v_, a); }
  constexpr Addr align_down(uint64_t a) const { return Addr(base::align_down(v_, a)); }
  /// The caller guarantees v + a - 1 does not wrap, as base::align_up.
  constexpr Addr align_up(uint64_t a) const { return Addr(base::align_up(v_, a)); }

  constexpr bool page_aligned() const { return is_aligned(kPageSize); }
  constexpr Addr page_down() const { return align_down(kPageSize); }
  constexpr Addr page_up() const { return align_up(kPageSize); }
  /// The byte offset within its 4 KiB page.
  constexpr uint64_t page_offset() const { return v_ & (kPageSize - 1); }

 private:
  uint64_t v_ = 0;
};

struct PhysTag {};
struct VirtTag {};

/// A physical address: what a page-table entry, CR3 or a device sees.
using PhysAddr = Addr<PhysTag>;
/// A virtual address: what the CPU's loads and stores use.
using VirtAddr = Addr<VirtTag>;

/// The virtual address of a pointer, and back.
inline VirtAddr virt_of(const void* p) { return VirtAddr(reinterpret_cast<uint64_t>(p)); }
template <typename T = void>
inline T* as_ptr(VirtAddr va) {
  return reinterpret_cast<T*>(va.value());
}

}  // namespace base
