// rt::Objs: one counter per heap size class, the unit in which reservations
// are made, held and compared (Biscuit's Resobjs_t), and the operations on
// it, dispatched to the best implementation this CPU has (chosen at boot).
#pragma once

#include "src/base/types.h"
#include "src/mm/heap_class_counts.h"

namespace rt {

/// One counter per heap size class.
inline constexpr unsigned kObjsClasses = mm::kHeapNumClasses;

/// Counters of heap objects, one per size class (the heap's own type, so
/// its charge accounts and rt's reservations are the same counters).
using Objs = mm::HeapClassCounts;
static_assert(kObjsClasses % 8 == 0, "AVX2 handles rows of 8 counters, SSE2 of 4: no scalar tail");

/// Bit i set where a[i] > b[i] (objs_cmp); class counts up to 32 fit.
using ObjsMask = uint32_t;
static_assert(kObjsClasses <= 32, "ObjsMask holds one bit per class");

/// The implementations, in the order of preference.
enum class ObjsImpl : uint8_t { kScalar, kSse2, kAvx2 };

/// "scalar", "sse2", "avx2".
const char* objs_impl_name(ObjsImpl impl);

/// A reservation's counters as the fused operations see them: limit, used
/// and peak (the heap's type: mm::HeapCharge is one).
using ObjsAccount = mm::HeapAccountCounts;

/// objs_give's answer: classes where the CPU's credit passed `keep` (to
/// flush), and where the account's peak passed the site's (to merge).
struct ObjsGive {
  ObjsMask over_keep;
  ObjsMask new_peak;
};

namespace internal {
struct ObjsOps {
  void (*add)(Objs& dst, const Objs& src);
  void (*sub)(Objs& dst, const Objs& src);
  ObjsMask (*cmp)(const Objs& a, const Objs& b);
  bool (*take)(Objs& avail, const Objs& want, ObjsAccount& acct);
  ObjsGive (*give)(Objs& avail, const ObjsAccount& acct, const Objs& keep, const Objs& site_peak);
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

/// A reserve's vector work in one pass: if `want` <= `avail` in every class,
/// avail -= want and the account starts (limit = want, used = peak = 0),
/// returning true; otherwise false with nothing changed.
inline bool objs_take(Objs& avail, const Objs& want, ObjsAccount& acct) {
  return internal::objs_ops.take(avail, want, acct);
}

/// A release's vector work in one pass: avail += limit - used (what the
/// account did not use, wrapping as objs_add/objs_sub), and which classes
/// then exceed `keep`, and where acct.peak > site_peak (unsigned).
inline ObjsGive objs_give(Objs& avail, const ObjsAccount& acct, const Objs& keep, const Objs& site_peak) {
  return internal::objs_ops.give(avail, acct, keep, site_peak);
}

}  // namespace rt
