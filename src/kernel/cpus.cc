// CPU bring-up (see cpus.h): LAPIC mode choice, clock calibration, the
// periodic timer and the AP start through INIT-SIPI-SIPI.
#include "src/kernel/cpus.h"

#include "src/arch/lapic.h"
#include "src/arch/pic8259.h"
#include "src/arch/pit.h"
#include "src/arch/smp.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/kernel/console.h"
#include "src/kernel/stacks.h"
#include "src/mm/direct_map.h"
#include "src/mm/kernel_vm.h"
#include "src/mm/kmalloc.h"
#include "src/mm/tlb.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

extern "C" char ap_trampoline_start[], ap_trampoline_end[];
extern "C" uint64_t ap_tramp_stacks, ap_tramp_entry;
extern "C" uint32_t ap_tramp_cr3, ap_tramp_efer, ap_tramp_ticket;

namespace kernel {
namespace {

using base::MemoryOrder;

// Where an AP lands (by arrival ticket) before it knows its index and
// moves to its own guarded kernel stack.
constexpr size_t kApStackSize = 4 * 1024;

constinit bool x2apic_mode = false;
constinit volatile uint32_t* xapic_page = nullptr;
constinit arch::CpuFeatures features{};
constinit ClockInfo clock{};
constinit arch::ClockScale tsc_to_ns{};
constinit uint64_t tsc_at_boot = 0;
constinit uint32_t timer_initial_count = 0;
constinit arch::TimerDivide timer_divide = arch::TimerDivide{};
constinit TimerSource source = TimerSource::kLapic;

// Per-CPU blocks and AP stacks: bounded by the MAX_CPUS build setting.
// (They move to the page allocator with mm; see the arch issue note.)
constinit arch::PerCpu blocks[arch::kMaxCpus]{};
alignas(16) constinit uint8_t ap_stacks[arch::kMaxCpus > 1 ? arch::kMaxCpus - 1 : 1][kApStackSize]{};
constinit uint64_t ap_stack_tops[arch::kMaxCpus]{};
constinit uint32_t apic_ids[arch::kMaxCpus]{};
constinit uint32_t planned = 1;  // CPUs given an index, the boot CPU included
constinit uint32_t found = 1;

enum ApState : uint32_t { kWaiting = 0, kOnline = 1, kAbandoned = 2 };
constinit base::Atomic<uint32_t> ap_state[arch::kMaxCpus]{};
constinit base::Atomic<uint32_t> online{1};

// The LAPIC of this CPU in the mode chosen at boot.
template <typename F>
auto with_lapic(F f) {
  if (x2apic_mode) {
    arch::Lapic<arch::X2apicMsr<>> l(arch::X2apicMsr<>{});
    return f(l);
  }
  arch::Lapic<arch::XapicMmio> l(arch::XapicMmio{xapic_page});
  return f(l);
}

// EOI first: the scheduler may switch threads from here, and the LAPIC
// must not keep the timer's vector in service meanwhile ([sdm3] 10.8.5).
void on_timer(arch::TrapFrame&) {
  ++arch::this_cpu().timer_ticks;
  lapic_eoi();
  sched::on_timer_interrupt();
}

void on_nmi(arch::TrapFrame&) { ++arch::this_cpu().nmis_received; }

// [sdm3] 10.9: a spurious interrupt is not in service; no EOI.
void on_spurious(arch::TrapFrame&) {}

// Work handed to a CPU by cpus_run_on: run by a thread pinned there.
struct alignas(64) CpuWork {
  base::Atomic<uint32_t> state{0};
  void (*fn)(void*) = nullptr;
  void* arg = nullptr;
};
enum : uint32_t { kWorkIdle = 0, kWorkClaimed };
constinit CpuWork cpu_work[arch::kMaxCpus];

void run_work(void* p) {
  auto* w = static_cast<CpuWork*>(p);
  w->fn(w->arg);
  // Release: the work's effects before "done".
  w->state.store(kWorkIdle, MemoryOrder::kRelease);
}

// The reschedule IPI only has to end a HLT; the idle loop does the rest.
void on_kick(arch::TrapFrame&) { lapic_eoi(); }

void on_lapic_error(arch::TrapFrame&) {
  uint32_t esr = with_lapic([](auto& l) { return l.read_error_status(); });
  kprint("lapic: error on cpu {}: ESR={:#x}\n", arch::this_cpu().index, esr);
  lapic_eoi();
}

// Local APIC set-up common to every CPU: enabled, all priorities accepted,
// errors reported, the periodic timer running.
void lapic_setup_this_cpu() {
  with_lapic([](auto& l) {
    l.set_task_priority(0);
    l.set_error_vector(arch::kVectorLapicError);
    l.enable(arch::kVectorSpurious);
    (void)l.read_error_status();
    if (timer_initial_count != 0)
      l.start_timer_periodic(arch::kVectorLapicTimer, timer_divide, timer_initial_count);
    return 0;
  });
}

void enable_x2apic_if_chosen() {
  if (x2apic_mode) arch::wrmsr(arch::kIa32ApicBase, arch::apic_base_x2apic(arch::rdmsr(arch::kIa32ApicBase)));
}

struct CalibrationCounters {
  uint64_t tsc() { return arch::rdtsc(); }
  uint32_t lapic_count() {
    return with_lapic([](auto& l) { return l.timer_current_count(); });
  }
};

void calibrate() {
  uint64_t t0 = arch::rdtsc();
  with_lapic([](auto& l) {
    l.start_timer_free_running(timer_divide);
    return 0;
  });
  arch::PitChannel2<arch::PortIo> pit(arch::PortIo{});
  CalibrationCounters counters;
  // Two 10 ms windows at most: the 20 ms budget. Under TCG the
  // first runs cold (code being translated); the second is accurate.
  constexpr int kMaxWindows = 2;
  constexpr uint32_t kWindowUs = 9'000;  // two windows plus overhead stay under 20 ms
  auto cal = arch::calibrate_clocks(pit, counters, kWindowUs, arch::kCalibrationTargetPpm, kMaxWindows);
  if (!cal.ok()) PANIC("clock calibration against the PIT failed: {}", base::error_name(cal.error()));
  clock.tsc_hz = cal.value().rates.tsc_hz;
  clock.lapic_timer_hz = cal.value().rates.lapic_timer_hz;
  clock.error_ppm = cal.value().error_ppm;
  clock.windows = cal.value().windows;
  arch::CpuidTscLeaves leaves{features.max_basic_leaf, features.tsc_ratio_denominator,
                              features.tsc_ratio_numerator, features.crystal_hz, features.base_mhz};
  auto from_cpuid = arch::tsc_from_cpuid(leaves);
  if (from_cpuid.ok() && arch::plausible_tsc_hz(from_cpuid.value().tsc_hz)) {
    clock.tsc_hz = from_cpuid.value().tsc_hz;
    clock.tsc_from_cpuid = true;
  }
  with_lapic([](auto& l) {
    l.stop_timer();
    return 0;
  });
  clock.calibration_tsc_cycles = arch::rdtsc() - t0;
  auto scale = arch::tsc_to_ns_scale(clock.tsc_hz);
  ASSERT_MSG(scale.ok(), "TSC rate {} Hz out of range", clock.tsc_hz);
  tsc_to_ns = scale.value();
  uint64_t count = clock.lapic_timer_hz / kTimerHz;
  if (count == 0 || count > 0xffff'ffff) {
    kprint("lapic: timer rate {} Hz unusable for {} Hz ticks; falling back to the PIT\n", clock.lapic_timer_hz,
           kTimerHz);
    source = TimerSource::kPit;
    return;
  }
  if (source == TimerSource::kLapic) timer_initial_count = static_cast<uint32_t>(count);
}

[[noreturn]] void park() {
  for (;;) asm volatile("cli; hlt");
}

[[noreturn]] void ap_main(uint32_t index);

}  // namespace

extern "C" [[noreturn]] void ap_entry(uint32_t /*ticket*/) {
  enable_x2apic_if_chosen();
  uint32_t my_id = with_lapic([](auto& l) { return l.id(); });
  uint32_t index = 0;
  for (uint32_t i = 1; i < planned; ++i)
    if (apic_ids[i] == my_id) index = i;
  // Not ours, or the boot CPU gave up waiting for us: stay out of the way.
  if (index == 0 || ap_state[index].load(MemoryOrder::kAcquire) == kAbandoned) park();
  blocks[index].apic_id = my_id;
  // Onto this CPU's own guarded stack; the landing stack is left behind.
  asm volatile(
      "mov %0, %%rsp\n"
      "xor %%ebp, %%ebp\n"
      "push $0\n"
      "jmp *%1\n" ::"r"(ap_kernel_stack_top(index)),
      "r"(&ap_main), "D"(index)
      : "memory");
  __builtin_unreachable();
}

namespace {

[[noreturn]] void ap_main(uint32_t index) {
  uint32_t my_id = blocks[index].apic_id;
  arch::PerCpu* self = &blocks[index];
  self->index = index;
  self->apic_id = my_id;
  arch::percpu_install(self);
  mm::heap_cpu_online(index);
  arch::gdt_init();
  stacks_install_tss(index);
  arch::idt_load();
  mm::vm_init_this_cpu();
  mm::tlb_cpu_online(index);
  lapic_setup_this_cpu();
  uint32_t expected = kWaiting;
  // Release: our per-CPU set-up is visible to whoever sees us online.
  if (!ap_state[index].compare_exchange(expected, kOnline, MemoryOrder::kAcqRel, MemoryOrder::kAcquire)) park();
  online.fetch_add(1, MemoryOrder::kRelease);
  cpus_enable_simd_this_cpu();
  sched::sched_run_ap(index);
}

}  // namespace

void cpus_init_boot(const Platform& platform, const arch::CpuFeatures& f, bool force_pit) {
  features = f;
  if (force_pit) source = TimerSource::kPit;
  x2apic_mode = features.x2apic;
  if (!x2apic_mode) {
    // [sdm3] 10.4.1: the xAPIC registers fill one 4 KiB page; uncached.
    base::Result<uint64_t> va = mm::fixmap(platform.lapic_phys, base::kPageSize, /*uncached=*/true);
    if (!va.ok()) PANIC("lapic: cannot map the registers at {:#x}: {}", platform.lapic_phys, base::error_name(va.error()));
    xapic_page = reinterpret_cast<volatile uint32_t*>(va.value());
  }
  enable_x2apic_if_chosen();
  arch::PerCpu& me = arch::this_cpu();
  me.apic_id = with_lapic([](auto& l) { return l.id(); });
  blocks[0] = me;  // the boot CPU's block lives here from now on
  arch::percpu_install(&blocks[0]);
  apic_ids[0] = blocks[0].apic_id;

  arch::pic8259_remap_and_mask(arch::PortIo{});
  arch::set_trap_handler(arch::kVectorPicBase + 7, on_spurious);
  arch::set_trap_handler(arch::kVectorPicBase + 15, on_spurious);
  arch::set_trap_handler(arch::kVectorLapicTimer, on_timer);
  arch::set_trap_handler(arch::kVectorNmi, on_nmi);
  arch::set_trap_handler(arch::kVectorSpurious, on_spurious);
  arch::set_trap_handler(arch::kVectorLapicError, on_lapic_error);
  arch::set_trap_handler(arch::kVectorIpiReschedule, on_kick);

  // [sdm3] 10.4.8: an integrated APIC reports version 0x1X; anything else
  // (an 82489DX, or no APIC answering at all) cannot run this kernel.
  arch::LapicVersion version = with_lapic([](auto& l) { return l.version(); });
  if (version.version < 0x10 || version.version > 0x1f)
    PANIC("local APIC version {:#x} at {:#x}: not an integrated xAPIC/x2APIC", version.version, platform.lapic_phys);

  timer_divide = arch::timer_divide(16).value();
  with_lapic([](auto& l) {
    l.enable(arch::kVectorSpurious);
    return 0;
  });
  tsc_at_boot = arch::rdtsc();
  calibrate();
  lapic_setup_this_cpu();
}

void cpus_start_aps(const Platform& platform) {
  if (!platform.from_acpi) return;
  found = static_cast<uint32_t>(platform.madt.enabled_cpus());
  for (const auto& c : platform.madt.cpus) {
    if (!c.enabled || c.apic_id == apic_ids[0]) continue;
    if (planned == arch::kMaxCpus) {
      kprint("smp: MADT lists more CPUs than MAX_CPUS={}; apic {} and later stay parked\n",
             arch::kMaxCpus, c.apic_id);
      break;
    }
    if (!x2apic_mode && c.apic_id > 0xff) {
      kprint("smp: apic id {} needs x2APIC mode; skipped\n", c.apic_id);
      continue;
    }
    apic_ids[planned++] = c.apic_id;
  }
  if (planned == 1) return;

  // The trampoline and its slots, at the SIPI page (identity-mapped).
  auto* page = static_cast<char*>(mm::phys_to_virt(arch::kApTrampolinePhys));
  size_t size = static_cast<size_t>(ap_trampoline_end - ap_trampoline_start);
  __builtin_memcpy(page, ap_trampoline_start, size);
  auto slot = [&](const void* sym) { return page + (static_cast<const char*>(sym) - ap_trampoline_start); };
  for (uint32_t t = 0; t + 1 < planned; ++t)
    ap_stack_tops[t] = reinterpret_cast<uint64_t>(ap_stacks[t] + kApStackSize);
  *reinterpret_cast<uint64_t*>(slot(&ap_tramp_stacks)) = reinterpret_cast<uint64_t>(ap_stack_tops);
  *reinterpret_cast<uint64_t*>(slot(&ap_tramp_entry)) = reinterpret_cast<uint64_t>(&ap_entry);
  *reinterpret_cast<uint32_t*>(slot(&ap_tramp_cr3)) = static_cast<uint32_t>(arch::read_cr3());
  *reinterpret_cast<uint32_t*>(slot(&ap_tramp_efer)) = static_cast<uint32_t>(arch::rdmsr(arch::kIa32Efer));
  *reinterpret_cast<uint32_t*>(slot(&ap_tramp_ticket)) = 0;
  uint8_t sipi = arch::sipi_vector(arch::kApTrampolinePhys).value();

  // [sdm3] 8.4.4.1: INIT, 10 ms, STARTUP, 200 us, STARTUP. Each step goes to
  // every AP before the next, so the waits are paid once, not per CPU.
  auto each_waiting = [&](auto send, const char* what) {
    for (uint32_t i = 1; i < planned; ++i) {
      if (ap_state[i].load(MemoryOrder::kAcquire) != kWaiting) continue;
      base::Status s = send(apic_ids[i]);
      if (!s.ok()) kprint("smp: {} to apic {} failed: {}\n", what, apic_ids[i], base::error_name(s.error()));
    }
  };
  each_waiting([](uint32_t id) { return with_lapic([&](auto& l) { return l.send_init(id); }); }, "INIT");
  delay_us(10'000);
  each_waiting([&](uint32_t id) { return with_lapic([&](auto& l) { return l.send_startup(id, sipi); }); }, "SIPI");
  delay_us(200);
  each_waiting([&](uint32_t id) { return with_lapic([&](auto& l) { return l.send_startup(id, sipi); }); }, "SIPI");

  // Wait for every AP, boundedly: a CPU that does not arrive is named and
  // abandoned (if it arrives later it parks itself).
  uint64_t deadline = nanotime() + 200'000'000;
  while (online.load(MemoryOrder::kAcquire) < planned && nanotime() < deadline) arch::cpu_relax();
  for (uint32_t i = 1; i < planned; ++i) {
    uint32_t expected = kWaiting;
    if (ap_state[i].compare_exchange(expected, kAbandoned, MemoryOrder::kAcqRel, MemoryOrder::kAcquire))
      kprint("smp: cpu {} (apic {}) did not start within 200 ms; skipped\n", i, apic_ids[i]);
  }
}

TimerSource timer_source() { return source; }

base::Status cpus_run_on(uint32_t cpu, void (*fn)(void*), void* arg) {
  if (cpu == 0 || cpu >= planned || ap_state[cpu].load(MemoryOrder::kAcquire) != kOnline)
    return base::Error::kInvalidArgument;
  CpuWork& w = cpu_work[cpu];
  uint32_t expected = kWorkIdle;
  if (!w.state.compare_exchange(expected, kWorkClaimed, MemoryOrder::kAcquire, MemoryOrder::kRelaxed))
    return base::Error::kBusy;
  w.fn = fn;
  w.arg = arg;
  base::Result<sched::Thread*> t = sched::spawn(run_work, &w, sched::ThreadOptions{.name = "cpu-work", .cpu = cpu});
  if (!t.ok()) {
    w.state.store(kWorkIdle, MemoryOrder::kRelease);
    return t.error();
  }
  sched::detach(t.value());
  return base::Status::Ok();
}

void cpus_wait_work_done(uint32_t cpu) {
  ASSERT(cpu < arch::kMaxCpus);
  while (cpu_work[cpu].state.load(MemoryOrder::kAcquire) != kWorkIdle) arch::cpu_relax();
}

void cpus_start_pit_tick(uint8_t vector) {
  arch::set_trap_handler(vector, on_timer);
  base::Status s = arch::pit_start_periodic(arch::PortIo{}, kTimerHz);
  ASSERT_MSG(s.ok(), "PIT cannot tick at {} Hz", kTimerHz);
}

const ClockInfo& clock_info() { return clock; }
const arch::CpuFeatures& cpu_features() { return features; }

void cpus_enable_simd_this_cpu() {
  arch::enable_sse();
  // The same XCR0 on every CPU, so code chosen once at boot (rt's Objs
  // operations) may run on any of them. The boot CPU's features stand for
  // all: the kernel assumes identical CPUs.
  if (arch::avx_state_supported(features)) arch::enable_avx_state(arch::kXcr0X87 | arch::kXcr0Sse | arch::kXcr0Avx);
}
uint32_t cpus_online() { return online.load(MemoryOrder::kAcquire); }
uint32_t cpus_found() { return found; }
uint32_t cpus_skipped() { return found - cpus_online(); }

arch::PerCpu& cpu_block(uint32_t index) {
  ASSERT_MSG(index < planned, "cpu_block({}) of {}", index, planned);
  return blocks[index];
}

uint64_t nanotime() { return tsc_to_ns.apply(arch::rdtsc() - tsc_at_boot); }

void delay_us(uint64_t us) {
  uint64_t end = nanotime() + us * 1000;
  while (nanotime() < end) arch::cpu_relax();
}

base::Status send_ipi(uint32_t index, uint8_t vector) {
  if (index >= planned || ap_state[index].load(MemoryOrder::kAcquire) == kAbandoned) return base::Error::kInvalidArgument;
  uint32_t id = apic_ids[index];
  arch::push_cli();
  base::Status s = with_lapic([&](auto& l) { return l.send_fixed(id, vector); });
  arch::pop_cli();
  return s;
}

base::Status send_nmi(uint32_t index) {
  if (index >= planned) return base::Error::kInvalidArgument;
  uint32_t id = apic_ids[index];
  arch::push_cli();
  base::Status s = with_lapic([&](auto& l) { return l.send_nmi(id); });
  arch::pop_cli();
  return s;
}

namespace {

constinit uint64_t lapic_ns_mult = 0;  // LAPIC timer counts per ns, 32.32 fixed point

void arm_lapic_timer_ns(uint64_t ns) {
  if (ns == ~uint64_t{0}) {
    with_lapic([](auto& l) {
      l.stop_timer();
      return 0;
    });
    return;
  }
  unsigned __int128 counts = (static_cast<unsigned __int128>(ns) * lapic_ns_mult) >> 32;
  // At least one count (zero would stop the timer); at most the 32-bit
  // register, about a minute at QEMU's 62.5 MHz: the timer then fires
  // early and is re-armed.
  uint32_t count = counts == 0 ? 1 : counts > 0xffff'ffff ? 0xffff'ffff : static_cast<uint32_t>(counts);
  with_lapic([&](auto& l) {
    l.start_timer_one_shot(arch::kVectorLapicTimer, timer_divide, count);
    return 0;
  });
}

void kick(uint32_t cpu) { (void)send_ipi(cpu, arch::kVectorIpiReschedule); }

}  // namespace

sched::SchedHooks sched_hooks() {
  // hz << 32 / 1e9 without a 128-bit division (the kernel has no libgcc).
  constexpr uint64_t kNsPerS = 1'000'000'000;
  uint64_t hz = clock.lapic_timer_hz;
  lapic_ns_mult = ((hz / kNsPerS) << 32) + (((hz % kNsPerS) << 32) / kNsPerS);
  return sched::SchedHooks{
      .kick_cpu = kick,
      .arm_timer_ns = source == TimerSource::kLapic ? arm_lapic_timer_ns : nullptr,
      .nanotime = nanotime,
      .tsc_to_ns = [](uint64_t cycles) { return tsc_to_ns.apply(cycles); },
      .tsc_hz = clock.tsc_hz,
  };
}

void lapic_eoi() {
  with_lapic([](auto& l) {
    l.eoi();
    return 0;
  });
}

}  // namespace kernel
