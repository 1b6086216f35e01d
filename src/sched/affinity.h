// Affinity: where a thread may run — on any CPU, or only on one, named by
// its CPU index. A type rather than a uint32_t with an all-ones sentinel,
// so that "anywhere" is never mistaken for a CPU and a CPU index never
// for an APIC id (arch/cpu_index.h). The thread keeps it in one atomic
// word (AtomicAffinity): every pick reads it without a lock, and
// set_affinity changes it with an exchange. Pure logic, host-tested
// (affinity_test.cc). Any context.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/base/atomic.h"
#include "src/base/types.h"

namespace sched {

class AtomicAffinity;

class Affinity {
 public:
  static constexpr Affinity any() { return Affinity(kAnyBits); }
  /// CPU indices are below arch::kMaxCpus, so none is the "any" encoding.
  static constexpr Affinity only(arch::CpuIndex cpu) { return Affinity(cpu.value); }

  constexpr bool is_any() const { return bits_ == kAnyBits; }
  /// The one CPU allowed; meaningful only when !is_any().
  constexpr arch::CpuIndex cpu() const { return arch::CpuIndex(bits_); }
  /// Whether a thread with this affinity may run on `cpu`: two compares,
  /// on every pick.
  constexpr bool allows(arch::CpuIndex cpu) const { return bits_ == cpu.value || bits_ == kAnyBits; }
  constexpr bool operator==(const Affinity&) const = default;

 private:
  friend class AtomicAffinity;
  static constexpr uint32_t kAnyBits = ~uint32_t{0};
  constexpr explicit Affinity(uint32_t bits) : bits_(bits) {}

  uint32_t bits_;
};

/// An Affinity in one lock-free word: Atomic<T>'s operations, typed.
class AtomicAffinity {
 public:
  constexpr AtomicAffinity() : bits_(Affinity::kAnyBits) {}
  AtomicAffinity(const AtomicAffinity&) = delete;
  AtomicAffinity& operator=(const AtomicAffinity&) = delete;

  Affinity load(base::MemoryOrder o) const { return Affinity(bits_.load(o)); }
  void store(Affinity a, base::MemoryOrder o) { bits_.store(a.bits_, o); }
  Affinity exchange(Affinity a, base::MemoryOrder o) { return Affinity(bits_.exchange(a.bits_, o)); }
  /// As Atomic<T>::compare_exchange: on failure `expected` becomes the
  /// value found.
  bool compare_exchange(Affinity& expected, Affinity desired, base::MemoryOrder success, base::MemoryOrder failure) {
    return bits_.compare_exchange(expected.bits_, desired.bits_, success, failure);
  }

 private:
  base::Atomic<uint32_t> bits_;
};

}  // namespace sched
