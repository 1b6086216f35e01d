// SMP bring-up (see smp_boot.h): the trampoline's slots, INIT-SIPI-SIPI,
// and the AP's way from the trampoline onto its own stack.
#include "src/arch/smp_boot.h"

#include "src/arch/ap_slot.h"
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/local_apic.h"
#include "src/arch/smp.h"
#include "src/arch/stacks.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"

extern "C" char ap_trampoline_start[], ap_trampoline_end[];
extern "C" uint64_t ap_tramp_stacks, ap_tramp_entry;
extern "C" uint32_t ap_tramp_cr3, ap_tramp_efer, ap_tramp_ticket;

namespace arch {
namespace {

using base::MemoryOrder;

// Per-CPU blocks, bounded by the MAX_CPUS build setting, and the tops of
// the landing stacks (stacks.h) by arrival ticket, for the trampoline.
constinit PerCpu blocks[kMaxCpus]{};
constinit uint64_t ap_stack_tops[kMaxCpus]{};
constinit ApicId apic_ids[kMaxCpus]{};
constinit uint32_t planned = 1;  // CPUs given an index, the boot CPU included
constinit uint32_t found = 1;

constinit ApSlot ap_slots[kMaxCpus]{};
constinit base::Atomic<uint32_t> online{1};

// QEMU's -icount charges an INIT a whole time slice. A vCPU runs on a
// budget of guest instructions that ends at the next QEMU_CLOCK_VIRTUAL
// deadline (split between the vCPUs), and the clock then advances by the
// budget minus what is left; the CPU reset an AP does on processing INIT
// zeroes what is left, so the clock moves on by the whole budget. With no
// deadline near (the boot CPU's timer armed 1 ms ahead, or nothing), that
// was 10 to 20 ms of guest time per AP: 69 ms of the 8-CPU boot and most
// of the 64-CPU one. A timer firing every few microseconds during
// bring-up keeps a deadline near and the charge to a few microseconds.
// On hardware it costs nothing: interrupts are off, so it only leaves one
// tick pending, taken like any early tick once interrupts are enabled.
// The boot CPU's own LAPIC timer is borrowed and put back as it was; in
// TSC-deadline mode (whose deadline is an MSR) or with no LAPIC timer rate
// it is left alone.
class BringUpPacer {
 public:
  static constexpr uint64_t kPeriodNs = 20'000;

  BringUpPacer() {
    uint64_t count = clock_info().lapic_timer_hz * kPeriodNs / 1'000'000'000;
    if (count == 0) return;
    with_lapic([&](auto& l) {
      saved_ = l.timer_setting();
      if (!timer_restorable(saved_)) return 0;
      l.start_timer_periodic(kVectorLapicTimer, kTimerDivide, static_cast<uint32_t>(count));
      active_ = true;
      return 0;
    });
  }
  BringUpPacer(const BringUpPacer&) = delete;
  BringUpPacer& operator=(const BringUpPacer&) = delete;
  ~BringUpPacer() { stop(); }

  void stop() {
    if (!active_) return;
    with_lapic([&](auto& l) {
      l.restore_timer(saved_);
      return 0;
    });
    active_ = false;
  }

 private:
  LapicTimerSetting saved_{};
  bool active_ = false;
};

[[noreturn]] void park() {
  for (;;) asm volatile("cli; hlt");
}

[[noreturn]] void ap_start(uint32_t index) {
  PerCpu* self = &blocks[index];
  self->index = CpuIndex(index);
  percpu_install(self);
  kernel_ap_main(index);
}

}  // namespace

extern "C" [[noreturn]] void ap_entry(uint32_t /*ticket*/) {
  lapic_enable_mode_this_cpu();
  ApicId my_id = lapic_id();
  uint32_t index = 0;
  for (uint32_t i = 1; i < planned; ++i)
    if (apic_ids[i] == my_id) index = i;
  // Not ours, or the boot CPU gave up waiting for us: stay out of the way,
  // having touched nothing shared. Past the claim we are committed to
  // coming online (TLB shootdown set, heap caches) and the boot CPU waits.
  if (index == 0 || !ap_slots[index].claim()) park();
  blocks[index].apic_id = my_id;
  // Onto this CPU's own guarded stack; the landing stack is left behind.
  asm volatile(
      "mov %0, %%rsp\n"
      "xor %%ebp, %%ebp\n"
      "push $0\n"
      "jmp *%1\n" ::"r"(ap_kernel_stack_top(CpuIndex(index))),
      "r"(&ap_start), "D"(index)
      : "memory");
  __builtin_unreachable();
}

void smp_init_boot_cpu() {
  PerCpu& me = this_cpu();
  me.apic_id = lapic_id();
  blocks[0] = me;  // the boot CPU's block lives here from now on
  percpu_install(&blocks[0]);
  apic_ids[0] = blocks[0].apic_id;
}

void smp_ap_online(CpuIndex cpu) {
  // Release: our per-CPU set-up is visible to whoever sees us online.
  if (!ap_slots[cpu.value].set_online()) PANIC("smp: cpu {} came online without claiming its slot", cpu.value);
  online.fetch_add(1, MemoryOrder::kRelease);
}

void smp_start_aps(const acpi::Madt& madt, const ApStart& start) {
  ASSERT_MSG(start.trampoline_root < (uint64_t{1} << 32) && start.trampoline_root % 4096 == 0,
             "smp: trampoline page tables at {:#x}: the 32-bit CR3 load needs a page below 4 GiB",
             start.trampoline_root);
  found = static_cast<uint32_t>(madt.enabled_cpus());
  for (const auto& c : madt.cpus) {
    const ApicId id(c.apic_id);
    if (!c.enabled || id == apic_ids[0]) continue;
    if (planned == kMaxCpus) {
      kprint("smp: MADT lists more CPUs than MAX_CPUS={}; apic {} and later stay parked\n", kMaxCpus, c.apic_id);
      break;
    }
    if (planned == stacks_cpus()) {
      kprint("smp: no stacks for apic {} and later (no memory for them); they stay parked\n", c.apic_id);
      break;
    }
    if (!lapic_x2apic_mode() && !id.fits_xapic()) {
      kprint("smp: apic id {} needs x2APIC mode; skipped\n", c.apic_id);
      continue;
    }
    apic_ids[planned++] = id;
  }
  if (planned == 1) return;

  // The trampoline and its slots, at the SIPI page.
  auto* page = static_cast<char*>(start.trampoline);
  size_t size = static_cast<size_t>(ap_trampoline_end - ap_trampoline_start);
  __builtin_memcpy(page, ap_trampoline_start, size);
  auto slot = [&](const void* sym) { return page + (static_cast<const char*>(sym) - ap_trampoline_start); };
  for (uint32_t t = 0; t + 1 < planned; ++t) ap_stack_tops[t] = ap_landing_stack_top(t);
  *reinterpret_cast<uint64_t*>(slot(&ap_tramp_stacks)) = reinterpret_cast<uint64_t>(ap_stack_tops);
  *reinterpret_cast<uint64_t*>(slot(&ap_tramp_entry)) = reinterpret_cast<uint64_t>(&ap_entry);
  *reinterpret_cast<uint32_t*>(slot(&ap_tramp_cr3)) = static_cast<uint32_t>(start.trampoline_root);
  *reinterpret_cast<uint32_t*>(slot(&ap_tramp_efer)) = static_cast<uint32_t>(rdmsr(kIa32Efer));
  *reinterpret_cast<uint32_t*>(slot(&ap_tramp_ticket)) = 0;
  uint8_t sipi = sipi_vector(kApTrampolinePhys).value();

  // [sdm3] 8.4.4.1: INIT, wait, STARTUP, wait, STARTUP, with the waits of
  // this processor generation (ap_start_delays.h). Each step goes to every
  // AP before the next, so the waits are paid once, not per CPU.
  auto each_waiting = [&](auto send, const char* what) {
    for (uint32_t i = 1; i < planned; ++i) {
      if (ap_slots[i].state() != ApSlot::kWaiting) continue;
      base::Status s = send(apic_ids[i]);
      if (!s.ok()) kprint("smp: {} to apic {} failed: {}\n", what, apic_ids[i].value, base::error_name(s.error()));
    }
  };
  BringUpPacer pacer;
  each_waiting([](ApicId id) { return with_lapic([&](auto& l) { return l.send_init(id); }); }, "INIT");
  delay_us(start.delays.after_init_us);
  each_waiting([&](ApicId id) { return with_lapic([&](auto& l) { return l.send_startup(id, sipi); }); }, "SIPI");
  delay_us(start.delays.after_startup_us);
  each_waiting([&](ApicId id) { return with_lapic([&](auto& l) { return l.send_startup(id, sipi); }); }, "SIPI");

  // Wait for every AP, boundedly: a CPU that has not claimed its slot by
  // then is named and abandoned (if it arrives later it parks itself). It
  // is sent INIT, back to wait-for-SIPI ([sdm3] 8.4.1), but that takes
  // effect only when it next runs; until then it may still be in the
  // trampoline, so the trampoline's page tables (start.trampoline_root)
  // keep its identity mapping after the kernel's lose it. One that has
  // claimed its slot is committed: wait for it.
  // A second: real CPUs arrive within microseconds, but a loaded host can
  // hold a vCPU's thread off for hundreds of milliseconds (a 2-core host
  // running four QEMUs missed 200 ms), and giving up costs a CPU for good.
  uint64_t deadline = nanotime() + start.arrival_limit_ns;
  while (online.load(MemoryOrder::kAcquire) < planned && nanotime() < deadline) cpu_relax();
  for (uint32_t i = 1; i < planned; ++i) {
    if (!ap_slots[i].abandon()) continue;
    kprint("smp: cpu {} (apic {}) did not start within {} ms; skipped\n", i, apic_ids[i].value,
           start.arrival_limit_ns / 1'000'000);
    base::Status s = with_lapic([&](auto& l) { return l.send_init(apic_ids[i]); });
    if (!s.ok()) kprint("smp: INIT to abandoned apic {} failed: {}\n", apic_ids[i].value, base::error_name(s.error()));
  }
  // A claimed CPU only sets itself up (it waits for nothing the boot CPU
  // holds): 30 s means it is stuck, and the boot cannot go on without it
  // (it is in the TLB shootdown set), so say which.
  deadline = nanotime() + 30'000'000'000;
  for (uint32_t i = 1; i < planned; ++i) {
    while (ap_slots[i].state() == ApSlot::kStarting) {
      if (nanotime() > deadline)
        PANIC("smp: cpu {} (apic {}) began its set-up but did not finish within 30 s", i, apic_ids[i].value);
      cpu_relax();
    }
  }
  pacer.stop();
}

uint32_t cpus_online() { return online.load(MemoryOrder::kAcquire); }
uint32_t cpus_found() { return found; }
uint32_t cpus_skipped() { return found - cpus_online(); }

bool ap_is_online(CpuIndex index) { return index.value < planned && ap_slots[index.value].state() == ApSlot::kOnline; }

PerCpu& cpu_block(CpuIndex index) {
  ASSERT_MSG(index.value < planned, "cpu_block({}) of {}", index.value, planned);
  return blocks[index.value];
}

bool cpu_apic_id(CpuIndex index, ApicId* apic_id) {
  if (index.value >= planned || ap_slots[index.value].state() == ApSlot::kAbandoned) return false;
  *apic_id = apic_ids[index.value];
  return true;
}

bool cpu_apic_id_any(CpuIndex index, ApicId* apic_id) {
  if (index.value >= planned) return false;
  *apic_id = apic_ids[index.value];
  return true;
}

}  // namespace arch
