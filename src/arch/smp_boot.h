// SMP bring-up: the per-CPU blocks, and the start of every enabled CPU of
// the MADT with INIT-SIPI-SIPI through the real-mode trampoline
// (ap_trampoline.S), each waited for with a timeout. Kernel only.
#pragma once

#include "src/arch/acpi.h"
#include "src/arch/ap_start_delays.h"
#include "src/arch/cpu_index.h"
#include "src/arch/percpu.h"
#include "src/base/types.h"

namespace arch {

/// Moves the boot CPU onto block 0 (copying what percpu_install'd `boot`
/// holds) and records its APIC id. Boot CPU, after lapic_init_boot.
void smp_init_boot_cpu();

/// The rest of an application processor's set-up, the kernel's (it knows
/// the modules above arch), ending in smp_ap_online() and never returning.
/// Each AP calls it on its own guarded stack with its per-CPU block
/// installed. Defined by the kernel (src/kernel/kmain.cc) and bound at link
/// time, as kmain is for the boot CPU (boot_entry.S): an entry point, not
/// a hook set at run time.
extern "C" [[noreturn]] void kernel_ap_main(uint32_t index);

/// How long the boot CPU waits, by default, for an AP to arrive before
/// giving up on it (boot option smp.ap_wait_ms).
inline constexpr uint64_t kApArrivalLimitNs = 1'000'000'000;

/// How smp_start_aps starts the APs.
struct ApStart {
  /// Where kApTrampolinePhys can be written.
  void* trampoline;
  /// The page tables (below 4 GiB) the trampoline turns paging on with:
  /// they must map the trampoline page at its physical address, and the
  /// kernel image, for as long as an AP may run it (mm::vm_trampoline_root).
  uint64_t trampoline_root;
  /// The waits of INIT-SIPI-SIPI (ap_start_delays.h, for the boot CPU's
  /// generation).
  ApStartDelays delays;
  /// How long to wait for APs to arrive; one that has not by then is named
  /// and skipped (0: none is waited for, for testing that path).
  uint64_t arrival_limit_ns = kApArrivalLimitNs;
};

/// Starts every enabled CPU of `madt` (up to kMaxCpus, and only as many as
/// have stacks: stacks_set_ap_region comes first) and waits for each
/// to come online, skipping (and naming) any that does not arrive within
/// `start.arrival_limit_ns`. Each AP switches to its kernel stack
/// (ap_kernel_stack_top) and calls kernel_ap_main. Boot CPU, thread
/// context.
void smp_start_aps(const acpi::Madt& madt, const ApStart& start);

/// Called by an AP at the end of its set-up (its LAPIC and timer running):
/// reports it online, or parks it for good if the boot CPU gave up on it.
/// AP, interrupts off.
void smp_ap_online(CpuIndex index);

/// CPUs online, the boot CPU included. Any context.
uint32_t cpus_online();
/// CPUs the MADT listed enabled (1 without a MADT).
uint32_t cpus_found();
/// Of those, the ones left parked or that failed to start.
uint32_t cpus_skipped();
/// Whether CPU `index` is an application processor that came online.
bool ap_is_online(CpuIndex index);

/// The block of CPU `index` (< cpus_online()).
PerCpu& cpu_block(CpuIndex index);

/// The APIC id of CPU `index`, if it was given one and not abandoned. Any
/// context but NMI.
bool cpu_apic_id(CpuIndex index, ApicId* apic_id);

/// Same, without the abandoned check (NMIs go even to a stuck CPU).
bool cpu_apic_id_any(CpuIndex index, ApicId* apic_id);

}  // namespace arch
