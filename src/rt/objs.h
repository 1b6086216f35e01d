// rt::Objs: one counter per heap size class, the unit in which reservations
// are made, held and compared (Biscuit's Resobjs_t), and the operations on
// it, dispatched to the best implementation this CPU has (chosen at boot).
#pragma once

#include "src/base/types.h"
#include "src/mm/heap_size_classes.h"

namespace rt {

/// One counter per heap size class.
inline constexpr unsigned kObjsClasses = mm::kHeapNumClasses;

/// Counters of heap objects, one per size class. 32-byte aligned so that
/// AVX2 loads whole 8-counter rows and SSE2 4-counter rows, never split
/// across a cache line.
struct alignas(32) Objs {
  uint32_t n[kObjsClasses];

  uint32_t& operator[](size_t i) { return n[i]; }
  uint32_t operator[](size_t i) const { return n[i]; }
  bool operator==(const Objs&) const = default;
};
static_assert(sizeof(Objs) == kObjsClasses * sizeof(uint32_t), "no padding: the vector code covers it all");
static_assert(alignof(Objs) == 32, "AVX2 rows are 32 bytes");
static_assert(kObjsClasses % 8 == 0, "AVX2 handles rows of 8 counters, SSE2 of 4: no scalar tail");

/// Bit i set where a[i] > b[i] (objs_cmp); class counts up to 32 fit.
using ObjsMask = uint32_t;
static_assert(kObjsClasses <= 32, "ObjsMask holds one bit per class");

/// The implementations, in the order of preference.
enum class ObjsImpl : uint8_t { kScalar, kSse2, kAvx2 };

/// "scalar", "sse2", "avx2".
const char* objs_impl_name(ObjsImpl impl);

namespace internal {
struct ObjsOps {
  void (*add)(Objs& dst, const Objs& src);
  void (*sub)(Objs& dst, const Objs& src);
  ObjsMask (*cmp)(const Objs& a, const Objs& b);
};
/// Written once by objs_init (boot CPU, before the APs start), read-only
/// afterwards: plain loads are enough.
extern ObjsOps objs_ops;
}  // namespace internal

/// Selects the implementation the dispatched operations use (normally
/// choose_objs_impl's answer). Boot CPU, before any other CPU runs them.
/// Until then they use the scalar one, which is correct anywhere.
void objs_init(ObjsImpl impl);

/// The implementation objs_init selected (kScalar before it).
ObjsImpl objs_impl();

/// Whether `impl` runs on this machine: the selected one or a lower one
/// (each level implies the ones below). Tests and benchmarks use it.
bool objs_impl_available(ObjsImpl impl);

// The operations. The SIMD ones use vector registers, so call them inside
// a sched::SimdRegion (or with preemption otherwise off). Any context but
// interrupt and NMI (whose handlers must not touch vector state).

/// dst[i] += src[i] for every class, wrapping modulo 2^32 (callers keep
/// counts below that; a wrap is theirs to prevent, as with any uint32_t).
inline void objs_add(Objs& dst, const Objs& src) { internal::objs_ops.add(dst, src); }

/// dst[i] -= src[i] for every class, wrapping modulo 2^32 (an underflow
/// leaves 2^32 - k, which objs_cmp then sees as huge: callers compare
/// before they subtract).
inline void objs_sub(Objs& dst, const Objs& src) { internal::objs_ops.sub(dst, src); }

/// Bit i set where a[i] > b[i], compared as unsigned 32-bit values (so
/// 2^31 > 2^31 - 1, unlike Biscuit's signed PCMPGTL). Zero means b covers a
/// in every class.
inline ObjsMask objs_cmp(const Objs& a, const Objs& b) { return internal::objs_ops.cmp(a, b); }

}  // namespace rt
