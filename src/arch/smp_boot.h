// SMP bring-up: the per-CPU blocks, and the start of every enabled CPU of
// the MADT with INIT-SIPI-SIPI through the real-mode trampoline
// (ap_trampoline.S), each waited for with a timeout. Kernel only.
#pragma once

#include "src/arch/acpi.h"
#include "src/arch/ap_start_delays.h"
#include "src/arch/percpu.h"
#include "src/base/types.h"

namespace arch {

/// Moves the boot CPU onto block 0 (copying what percpu_install'd `boot`
/// holds) and records its APIC id. Boot CPU, after lapic_init_boot.
void smp_init_boot_cpu();

/// What an application processor runs once it is on its own stack with its
/// per-CPU block installed: the rest of its set-up (the kernel's, which
/// knows the modules above arch), ending in smp_ap_online().
using ApMain = void (*)(uint32_t index);

/// How long the boot CPU waits for an AP to arrive before giving up on it.
inline constexpr uint64_t kApArrivalLimitNs = 1'000'000'000;

/// Starts every enabled CPU of `madt` (up to kMaxCpus) and waits for each
/// to come online, skipping (and naming) any that does not within
/// kApArrivalLimitNs.
/// `trampoline` is where kApTrampolinePhys can be written; each AP switches
/// to `stack_top(index)` and calls `ap_main(index)`, which must not
/// return. `delays` are the waits of INIT-SIPI-SIPI (ap_start_delays.h,
/// for the boot CPU's generation). Boot CPU, thread context.
void smp_start_aps(const acpi::Madt& madt, void* trampoline, uint64_t (*stack_top)(uint32_t index), ApMain ap_main,
                   ApStartDelays delays);

/// Called by an AP at the end of its set-up (its LAPIC and timer running):
/// reports it online, or parks it for good if the boot CPU gave up on it.
/// AP, interrupts off.
void smp_ap_online(uint32_t index);

/// CPUs online, the boot CPU included. Any context.
uint32_t cpus_online();
/// CPUs the MADT listed enabled (1 without a MADT).
uint32_t cpus_found();
/// Of those, the ones left parked or that failed to start.
uint32_t cpus_skipped();
/// Whether CPU `index` is an application processor that came online.
bool ap_is_online(uint32_t index);

/// The block of CPU `index` (< cpus_online()).
PerCpu& cpu_block(uint32_t index);

/// The APIC id of CPU `index`, if it was given one and not abandoned. Any
/// context but NMI.
bool cpu_apic_id(uint32_t index, uint32_t* apic_id);

/// Same, without the abandoned check (NMIs go even to a stuck CPU).
bool cpu_apic_id_any(uint32_t index, uint32_t* apic_id);

}  // namespace arch
