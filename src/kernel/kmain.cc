// kmain: composes the modules in boot order (console, descriptor tables,
// boot information, memory map) and runs the command line's job: `test=`,
// `run=`, or the interactive monitor, beside the application's thread
// if the kernel has one (app.h).
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/cpu_features.h"
#include "src/arch/cpu_timer.h"
#include "src/arch/elf.h"
#include "src/arch/exceptions.h"
#include "src/arch/fw_cfg.h"
#include "src/arch/irq_routing.h"
#include "src/arch/local_apic.h"
#include "src/arch/multiboot2.h"
#include "src/arch/percpu.h"
#include "src/arch/smp_boot.h"
#include "src/arch/stacks.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/kernel/ap_stacks.h"
#include "src/kernel/app_start.h"
#include "src/kernel/boot_phases.h"
#include "src/kernel/boot_state.h"
#include "src/kernel/platform.h"
#include "src/kernel/version.h"
#include "src/ktest/boot_cmdline.h"
#include "src/ktest/timing.h"
#include "src/mm/direct_map.h"
#include "src/mm/e820.h"
#include "src/mm/fail_inject.h"
#include "src/mm/kernel_vm.h"
#include "src/mm/kmalloc.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/mm/tlb.h"
#include "src/monitor/boot_options.h"
#include "src/monitor/console_input.h"
#include "src/monitor/monitor.h"
#include "src/monitor/options_command.h"
#include "src/prof/crash_report.h"
#include "src/prof/kernel_symbols.h"
#include "src/prof/lbr_boot.h"
#include "src/prof/pmu.h"
#include "src/prof/prof_init.h"
#include "src/rt/objs.h"
#include "src/rt/objs_select.h"
#include "src/rt/res_init.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

extern "C" char __kernel_phys_start[], __kernel_phys_end[];
extern "C" uint64_t boot_entry_tsc;
using InitFn = void (*)();
extern "C" const InitFn __init_array_start[], __init_array_end[];

namespace kernel {
namespace {

constexpr size_t kMaxMapEntries = 512;
constexpr size_t kMaxCarveOuts = 64;

// Static, not on the 16 KiB boot stack: these are large.
constinit mm::BootMemoryMap<kMaxMapEntries, kMaxMapEntries> memory_map{};
constinit mm::E820Entry raw_map[kMaxMapEntries]{};
constinit mm::PhysRange carve_outs[kMaxCarveOuts]{};
constinit char early_cmdline_buf[2048]{};
constinit arch::PerCpu boot_cpu{};
constinit mm::VmBootReport vm_report{};
constinit arch::CpuFeatures boot_features{};  // decoded once by kmain; every CPU enables the same SIMD state

// `mbi` is where the boot information can be read: the boot identity map
// first (the low 4 GiB, where the loader put it), then the direct map.
arch::mb2::BootInfo parse_boot_info(uint32_t mbi_phys, const uint8_t* mbi) {
  ASSERT_MSG(mbi_phys != 0 && mbi_phys % 8 == 0, "multiboot2: boot information at {:#x} is not 8-byte aligned",
             mbi_phys);
  uint32_t total_size = *reinterpret_cast<const uint32_t*>(mbi);
  arch::mb2::ParseError err;
  auto info = arch::mb2::parse_multiboot2(mbi, total_size, &err);
  if (!info.ok()) PANIC("multiboot2: {} at +{:#x} ({:#x})", err.what, err.offset, err.value);
  return info.value();
}

// Boot loader command line plus QEMU's opt/biscotti/cmdline, appended so that
// its words win (see cmdline.h). Twice: before the heap exists only the
// first 2 KiB, for the one option mm needs then (mm.poison); once the heap
// is up, the whole of both, in a buffer of their exact size.
constexpr char kFwCfgCmdline[] = "opt/biscotti/cmdline";

base::StrView early_cmdline(base::StrView from_loader) {
  size_t n = base::format_to(early_cmdline_buf, sizeof(early_cmdline_buf), "{}", from_loader);
  if (n >= sizeof(early_cmdline_buf) - 1) return base::StrView(early_cmdline_buf, sizeof(early_cmdline_buf) - 1);
  arch::FwCfg<arch::PortIo> fw_cfg(arch::PortIo{});
  char extra[1024];
  int64_t len = fw_cfg.read_file(kFwCfgCmdline, extra, sizeof(extra));
  if (len > 0) {
    n += base::format_to(
        early_cmdline_buf + n, sizeof(early_cmdline_buf) - n, "{}{}", n ? " " : "",
        base::StrView(extra, static_cast<size_t>(len) < sizeof(extra) ? static_cast<size_t>(len) : sizeof(extra)));
  }
  return base::StrView(early_cmdline_buf, n < sizeof(early_cmdline_buf) ? n : sizeof(early_cmdline_buf) - 1);
}

base::StrView full_cmdline(base::StrView from_loader) {
  arch::FwCfg<arch::PortIo> fw_cfg(arch::PortIo{});
  const int64_t len = fw_cfg.read_file(kFwCfgCmdline, nullptr, 0);
  const size_t extra = len > 0 ? static_cast<size_t>(len) : 0;
  const size_t sep = from_loader.size() != 0 && extra != 0 ? 1 : 0;
  const size_t total = from_loader.size() + sep + extra;
  auto* buf = static_cast<char*>(mm::kmalloc(total + 1));
  if (buf == nullptr) PANIC("boot: no memory for a {}-byte command line", total);
  __builtin_memcpy(buf, from_loader.data(), from_loader.size());
  if (sep != 0) buf[from_loader.size()] = ' ';
  if (extra != 0) (void)fw_cfg.read_file(kFwCfgCmdline, buf + from_loader.size() + sep, extra);
  buf[total] = '\0';
  return base::StrView(buf, total);
}

void add_carve_out(size_t* count, base::PhysAddr start, base::PhysAddr end, const char* what) {
  ASSERT_MSG(*count < kMaxCarveOuts, "more than {} boot carve-outs", kMaxCarveOuts);
  carve_outs[(*count)++] = mm::PhysRange{start, end};
  arch::kprint("carve-out: [{:#x}, {:#x}) {}\n", start.value(), end.value(), what);
}

void init_memory_map(const arch::mb2::BootInfo& info, uint32_t mbi_phys, BootState* state) {
  size_t n = 0;
  for (const auto& e : info.memory_map()) {
    ASSERT_MSG(n < kMaxMapEntries, "memory map has more than {} entries", kMaxMapEntries);
    raw_map[n++] = mm::E820Entry{e.base, e.length, e.type};
    arch::kprint("e820: [{:#x}, {:#x}) type {}\n", e.base, e.base + e.length, e.type);
  }
  ASSERT_MSG(n > 0, "multiboot2: no memory map tag (GRUB always provides one)");

  size_t c = 0;
  // Low memory holds the BIOS data, EBDA and (later) the AP trampoline.
  add_carve_out(&c, base::PhysAddr(0), base::PhysAddr(0x10'0000), "low memory");
  // The linker script's physical symbols (kernel.ld): their addresses are
  // load addresses, not the image's virtual ones.
  add_carve_out(&c, base::PhysAddr(reinterpret_cast<uint64_t>(__kernel_phys_start)),
                base::PhysAddr(reinterpret_cast<uint64_t>(__kernel_phys_end)), "kernel image");
  add_carve_out(&c, base::PhysAddr(mbi_phys), base::PhysAddr(mbi_phys) + info.raw().size(), "boot information");
  // Boot modules (an initrd, data) stay where GRUB put them: out of free
  // memory, and named, so a boot log shows what was loaded.
  for (const auto& m : info.modules()) {
    add_carve_out(&c, base::PhysAddr(m.start), base::PhysAddr(m.end), "module");
    arch::kprint("module: [{:#x}, {:#x}) {} bytes '{}'\n", m.start, m.end, m.end - m.start, m.string);
  }
  // GRUB also loads the non-allocated ELF sections (symbol and string
  // tables) after the image and reports them with physical sh_addr values.
  // Without usable headers nothing is carved; prof's symbols_init says why.
  const auto& elf = info.elf_sections();
  auto sections = arch::elf::SectionTable::from(elf.num, elf.entsize, elf.headers, nullptr);
  for (uint32_t i = 0; sections.ok() && i < sections.value().size(); ++i) {
    const arch::elf::SectionHeader sh = sections.value()[i];
    if (arch::elf::loaded_by_loader(sh) && sh.addr < mm::kKernelImageBase)
      add_carve_out(&c, base::PhysAddr(sh.addr), base::PhysAddr(sh.addr + sh.size), "ELF section");
  }

  base::Status s =
      memory_map.init(base::Span<const mm::E820Entry>(raw_map, n), base::Span<const mm::PhysRange>(carve_outs, c));
  if (!s.ok()) PANIC("memory map: {} ({} entries, {} carve-outs)", base::error_name(s.error()), n, c);
  state->usable_bytes = memory_map.usable_bytes();
  state->highest_usable_end = memory_map.highest_usable_end();
  state->memory_ranges = memory_map.usable().size();
}

void print_memory_report(const mm::VmBootReport& vm) {
  mm::PageAllocStats pages = mm::page_alloc_stats();
  arch::kprint("mm: direct map {} MiB in {} pages, NX {}; {} KiB of page metadata, {} boot page tables\n",
               vm.direct_map_bytes >> 20, vm.direct_page_bytes == (uint64_t{1} << 30) ? "1 GiB" : "2 MiB",
               vm.nx ? "on" : "off", vm.metadata_bytes >> 10, vm.boot_table_pages);
  arch::kprint("mm: {} pages ({} KiB) free of {} managed{}\n", pages.phys.free_pages, pages.phys.free_pages * 4,
               pages.phys.total_pages, pages.poison ? "; poison checking on" : "");
  if (pages.phys.ready_pages != pages.phys.total_pages) {
    arch::kprint("mm: page metadata for {} of {} pages prepared at boot; the rest {} (mm.init)\n",
                 pages.phys.ready_pages, pages.phys.total_pages,
                 mm::page_alloc_init_mode() == mm::PageInitMode::kDemand ? "on demand" : "in the background");
  }
}

// The boot CPU's LAPIC (its xAPIC page mapped here, mm being above arch),
// the clocks measured with it against the PIT, and its timer.
// What the second clock said of the PIT's measurement (pm_timer.h).
void print_clock_check(const Platform& platform, const arch::ClockInfo& clock) {
  using Check = arch::ClockInfo::Check;
  const arch::ClockCrossCheck& c = clock.cross_check;
  switch (clock.check) {
    case Check::kNotNeeded:
      return;
    case Check::kNoTimer:
      arch::kprint("clock: not checked against a second clock: {}\n", platform.no_pm_timer_why);
      return;
    case Check::kUnusable:
      arch::kprint("clock: the ACPI PM timer at port {:#x} gave no usable span ({}); not checked\n",
                   platform.pm_timer.port, base::error_name(clock.unusable));
      return;
    case Check::kAgreed:
      arch::kprint(
          "clock: checked against the ACPI PM timer (port {:#x}, {} bits): TSC {} kHz, {} ppm apart (bound {})\n",
          platform.pm_timer.port, platform.pm_timer.width_32 ? 32 : 24, c.tsc_hz / 1000, c.apart_ppm, c.bound_ppm);
      return;
    case Check::kDisagreed:
      arch::kprint(
          "clock: warning: the ACPI PM timer (port {:#x}) says TSC {} kHz, {} ppm from the PIT's {} kHz (bound {}) "
          "in {} measurements; one of the two clocks is wrong; keeping the PIT's\n",
          platform.pm_timer.port, c.tsc_hz / 1000, c.apart_ppm, clock.tsc_hz / 1000, c.bound_ppm, clock.measurements);
      return;
  }
}

void start_lapic_and_clock(const Platform& platform, const arch::CpuFeatures& features, bool force_pit) {
  const base::PhysAddr lapic_phys(platform.lapic_phys);
  base::VirtAddr xapic_va;
  if (!features.x2apic) {
    // [sdm3] 10.4.1: the xAPIC registers fill one 4 KiB page; uncached.
    base::Result<base::VirtAddr> va = mm::fixmap(lapic_phys, base::kPageSize, /*uncached=*/true);
    if (!va.ok())
      PANIC("lapic: cannot map the registers at {:#x}: {}", lapic_phys.value(), base::error_name(va.error()));
    xapic_va = va.value();
  }
  arch::lapic_init_boot(features.x2apic, xapic_va, lapic_phys);
  arch::smp_init_boot_cpu();
  arch::clock_calibrate(features, platform.have_pm_timer ? &platform.pm_timer : nullptr);
  arch::lapic_setup_this_cpu();
  arch::cpu_timer_init(force_pit);
  const arch::ClockInfo& clock = arch::clock_info();
  const uint64_t took_us = clock.calibration_tsc_cycles * 1'000'000 / clock.tsc_hz;
  if (clock.windows == 0) {
    arch::kprint("clock: TSC {} kHz, LAPIC timer {} kHz, both from CPUID 0x15's crystal; calibration took {} us\n",
                 clock.tsc_hz / 1000, clock.lapic_timer_hz / 1000, took_us);
  } else {
    arch::kprint("clock: TSC {} kHz ({}, +-{} ppm), LAPIC timer {} kHz; calibration took {} us in {} PIT windows\n",
                 clock.tsc_hz / 1000, clock.tsc_from_cpuid ? "CPUID 0x16" : "PIT", clock.error_ppm,
                 clock.lapic_timer_hz / 1000, took_us, clock.windows);
  }
  print_clock_check(platform, clock);
}

// Lets this CPU run SimdRegion code (src/sched/simd.h): SSE always, and
// AVX state (CR4.OSXSAVE, XCR0 = x87|SSE|AVX) where the CPU supports it.
// The same XCR0 on every CPU, so code chosen once at boot (rt's Objs
// operations) may run on any of them: the boot CPU's features stand for
// all, the kernel assuming identical CPUs.
void enable_simd_this_cpu() {
  arch::enable_sse();
  if (arch::avx_state_supported(boot_features))
    arch::enable_avx_state(arch::kXcr0X87 | arch::kXcr0Sse | arch::kXcr0Avx);
}

// kmain becomes thread "kmain" on CPU 0, which gets its idle thread; the
// APs join as they come online (arch::kernel_ap_main). Interrupts are still off.
void start_scheduler(const Platform& platform) {
  enable_simd_this_cpu();
  uint32_t ncpu = platform.from_acpi ? static_cast<uint32_t>(platform.madt.enabled_cpus()) : 1;
  if (ncpu == 0) ncpu = 1;
  if (ncpu > arch::kMaxCpus) ncpu = arch::kMaxCpus;
  // The APs' stacks, before anything is sized by the CPU count: if memory
  // ran out for them, only the boot CPU starts, and the scheduler, prof and
  // the rest are sized for it alone. (Before start_aps, whose trampoline
  // page tables copy the kernel's.)
  if (platform.from_acpi) map_ap_stacks(aps_listed(platform.madt, arch::this_cpu().apic_id.value));
  if (ncpu > arch::stacks_cpus()) ncpu = arch::stacks_cpus();
  sched::futex_init(ncpu);
  arch::StackInfo boot;
  uint64_t rsp;
  asm volatile("mov %%rsp, %0" : "=r"(rsp));
  ASSERT_MSG(arch::find_stack(base::VirtAddr(rsp), &boot), "kmain is not on the boot stack");
  sched::sched_init(ncpu, boot.lo, boot.hi);
  sched::sched_start_boot_cpu();
}

// The vector code rt's Objs operations use, chosen once from this CPU's
// features and the XCR0 it enabled (start_scheduler), before the APs start:
// they only enable theirs and use the table set here. And what sampling
// will have: QEMU without KVM has no PMU (sampling uses the periodic NMI
// there; `prof start`'s PMU events refuse, naming discovery's reason).
void choose_cpu_paths(arch::CpuidInsn& cpuid_insn) {
  rt::objs_init(rt::choose_objs_impl(boot_features, arch::enabled_xcr0()));
  arch::kprint("rt: Objs operations use {} (AVX2 {}, XCR0 {:#x})\n", rt::objs_impl_name(rt::objs_impl()),
               boot_features.avx2 ? "yes" : "no", arch::enabled_xcr0());
  char pmu[64];
  prof::describe(prof::discover_pmu(cpuid_insn), pmu, sizeof pmu);
  arch::kprint("prof: PMU: {}\n", static_cast<const char*>(pmu));
  prof::print_lbr_line();
}

// This CPU's per-CPU block, console and descriptor tables, exception
// reports, then the static constructors. Interrupts off throughout.
void init_boot_cpu() {
  // First: everything after (the console lock, push_cli) reads this_cpu().
  arch::percpu_install(&boot_cpu);
  arch::console_init();
  arch::gdt_init();
  // The TSS before the IDT: NMI, #DF, #MC and #PF gates name IST stacks.
  arch::stacks_install_tss(arch::CpuIndex(0));
  arch::stacks_unmap_guards();
  arch::idt_init();
  arch::exceptions_init();
  prof::crash_report_init();
  for (const InitFn* f = __init_array_start; f != __init_array_end; ++f) (*f)();
}

// `fail.page=P`, `fail.heap=P`, `fail.reserve=P` (per mille), `fail.seed=N`:
// fault injection's rates. A bad value keeps the table's default (0, the
// seed 1); report_boot_options names it.
mm::FaultConfig fault_config(base::StrView cmdline) {
  mm::FaultConfig config;
  auto rate = [&](mm::FaultSite site, uint64_t per_mille) {
    ASSERT_MSG(per_mille <= mm::kFaultPerMilleMax, "the fail.{} row of boot_option_table.h", mm::fault_site_name(site));
    config.per_mille[static_cast<unsigned>(site)] = static_cast<uint32_t>(per_mille);
  };
  rate(mm::FaultSite::kPage, monitor::boot_option_uint(cmdline, "fail.page").value());
  rate(mm::FaultSite::kHeap, monitor::boot_option_uint(cmdline, "fail.heap").value());
  rate(mm::FaultSite::kReserve, monitor::boot_option_uint(cmdline, "fail.reserve").value());
  config.seed = monitor::boot_option_uint(cmdline, "fail.seed").value();
  return config;
}

bool same_faults(const mm::FaultConfig& a, const mm::FaultConfig& b) {
  for (unsigned i = 0; i < mm::kFaultSites; ++i) {
    if (a.per_mille[i] != b.per_mille[i]) return false;
  }
  return a.seed == b.seed;
}

// `mm.init=`: boot prepares all page metadata, or enough for itself and
// the rest in the background (the default) or on demand (page_alloc.h).
// An unknown value is reported by report_boot_options; the default stays.
mm::PageInitMode page_init_mode(base::StrView cmdline) {
  if (monitor::boot_option_is(cmdline, "mm.init", "boot")) return mm::PageInitMode::kBoot;
  if (monitor::boot_option_is(cmdline, "mm.init", "demand")) return mm::PageInitMode::kDemand;
  return mm::PageInitMode::kBackground;
}

void page_init_main(void*) {
  // Yield between steps: the monitor and the jobs on this CPU go first.
  while (mm::page_alloc_init_step()) sched::yield();
}

// mm.init=background: the metadata boot deferred, prepared by one kernel
// thread. One, not one per CPU: the work is a memset bound by memory
// bandwidth, each step is taken under the allocator's lock, and under
// -icount QEMU runs every vCPU on one host thread and one clock, so more
// threads would not finish sooner there (measured: README, "Boot").
void start_page_init() {
  const mm::PageAllocStats s = mm::page_alloc_stats();
  if (mm::page_alloc_init_mode() != mm::PageInitMode::kBackground || s.phys.ready_pages == s.phys.total_pages) return;
  base::Result<sched::Thread*> t = sched::spawn(page_init_main, nullptr, sched::ThreadOptions{.name = "page-init"});
  // Nothing is lost if it cannot start: allocations prepare what they need.
  if (!t.ok()) {
    arch::kprint("mm: cannot start the page-init thread ({}); page metadata is prepared on demand\n",
                 base::error_name(t.error()));
    return;
  }
  sched::detach(t.value());
}

// The memory map first: mm replaces the boot page tables, after which the
// boot information is read again (and returned) through the direct map.
// The command line's first 2 KiB are copied out (with fw_cfg's part) before
// the switch, for mm.poison and fail.*; the whole of it once the heap is up.
arch::mb2::BootInfo init_memory(uint32_t mbi_phys, const arch::CpuFeatures& features, BootState* state) {
  arch::mb2::BootInfo early_info = parse_boot_info(mbi_phys, reinterpret_cast<const uint8_t*>(uintptr_t{mbi_phys}));
  init_memory_map(early_info, mbi_phys, state);
  const base::StrView early = early_cmdline(early_info.cmdline());
  const bool poison = monitor::boot_option_flag(early, "mm.poison");
  const mm::PageInitMode page_init = page_init_mode(early);
  // Fault injection is armed now, before mm starts, so that the allocators
  // read it once at their init and route through their slow paths only
  // when it is on (fail_inject.h). Nothing is injected until a FaultScope
  // opens, which boot never does: its allocations are a panic-on-failure
  // path by design.
  const mm::FaultConfig faults = fault_config(early);
  mm::fail_inject_init(faults);
  if (faults.any()) {
    arch::kprint("fail: injecting page {}/1000, heap {}/1000, reserve {}/1000, seed {}, inside fault scopes only\n",
                 faults.rate(mm::FaultSite::kPage), faults.rate(mm::FaultSite::kHeap),
                 faults.rate(mm::FaultSite::kReserve), faults.seed);
  }
  vm_report = mm::vm_init(mm::VmBootInfo{
      .map = memory_map.map(),
      .usable = memory_map.usable(),
      .nx = features.nx,
      .pages_1g = features.pages_1g,
      .poison = poison,
      .page_init = page_init,
  });
  mm::tlb_cpu_online(arch::CpuIndex(0));
  mm::kva_init();
  mm::heap_init(poison);
  arch::mb2::BootInfo info =
      parse_boot_info(mbi_phys, static_cast<const uint8_t*>(mm::phys_to_virt(base::PhysAddr(mbi_phys))));
  state->boot_loader = info.boot_loader_name();
  state->cmdline = full_cmdline(info.cmdline());
  if (monitor::boot_option_flag(state->cmdline, "mm.poison") != poison) {
    arch::kprint(
        "warning: mm.poison lies beyond the first {} bytes of the command line, which mm reads before "
        "the heap exists: it was not applied; give it earlier\n",
        sizeof(early_cmdline_buf) - 1);
  }
  if (page_init_mode(state->cmdline) != page_init) {
    arch::kprint(
        "warning: mm.init lies beyond the first {} bytes of the command line, which mm reads before the heap "
        "exists: it was not applied; give it earlier\n",
        sizeof(early_cmdline_buf) - 1);
  }
  if (!same_faults(fault_config(state->cmdline), faults)) {
    arch::kprint(
        "warning: fail.* options lie beyond the first {} bytes of the command line, which mm reads before "
        "the heap exists: they were not applied; give them earlier\n",
        sizeof(early_cmdline_buf) - 1);
  }
  return info;
}

// `console.wrap=N`: wrap console lines at N columns (1..9999).
void set_console_wrap(base::StrView cmdline) {
  // A bad value was named by report_boot_options: no wrapping, the default.
  if (base::Result<uint64_t> columns = monitor::boot_option_uint(cmdline, "console.wrap"); columns.ok())
    arch::console_set_wrap(static_cast<uint32_t>(columns.value()));
}

void print_boot_report(const BootState& state) {
  arch::kprint("boot loader: {}\ncommand line: {}\n", state.boot_loader, state.cmdline);
  arch::kprint("memory: {} bytes usable ({} MiB) in {} ranges\n", state.usable_bytes, state.usable_bytes >> 20,
               state.memory_ranges);
  print_memory_report(vm_report);
}

// Device interrupts: every IOAPIC's window mapped (mm's fixmap, mm being
// above arch) and masked, for arch to route.
void start_irq_routing(const Platform& platform) {
  size_t n = platform.madt.ioapics.size();
  ASSERT_MSG(n <= arch::kMaxIoApics, "more than {} IOAPICs", arch::kMaxIoApics);
  base::VirtAddr va[arch::kMaxIoApics]{};
  for (size_t i = 0; i < n; ++i) {
    base::Result<base::VirtAddr> m =
        mm::fixmap(base::PhysAddr(platform.madt.ioapics[i].address), arch::kIoApicWindowBytes, /*uncached=*/true);
    if (!m.ok())
      PANIC("irq: cannot map the IOAPIC at {:#x}: {}", platform.madt.ioapics[i].address, base::error_name(m.error()));
    va[i] = m.value();
  }
  arch::irq_routing_init(platform.madt, base::Span<const base::VirtAddr>(va, n));
}

// Every other CPU of the MADT, through the trampoline page (direct-mapped)
// and onto its guarded stack, where arch::kernel_ap_main finishes its set-up.
void start_aps(const Platform& platform, base::StrView cmdline) {
  if (!platform.from_acpi) return;
  arch::ApStart start{
      .trampoline = mm::phys_to_virt(base::PhysAddr(arch::kApTrampolinePhys)),
      .trampoline_root = mm::vm_trampoline_root(),
      .delays = arch::ap_start_delays(boot_features.vendor_id, boot_features.family),
  };
  if (auto ms = monitor::boot_option_uint(cmdline, "smp.ap_wait_ms"); ms.ok())
    start.arrival_limit_ns = ms.value() * 1'000'000;
  arch::smp_start_aps(platform.madt, start);
}

void print_cpus_report(const arch::CpuFeatures& features, uint64_t online_tsc, const BootPhases& phases,
                       base::StrView cmdline) {
  arch::kprint("cpus: {} found, {} online, {} skipped; {} mode\n", arch::cpus_found(), arch::cpus_online(),
               arch::cpus_skipped(), features.x2apic ? "x2APIC" : "xAPIC");
  arch::kprint("boot: all CPUs online {} TSC cycles ({} us) after kernel entry\n", online_tsc - boot_entry_tsc,
               (online_tsc - boot_entry_tsc) * 1'000'000 / arch::tsc_hz());
  if (monitor::boot_option_flag(cmdline, "boot.timing")) {
    arch::console_lock();
    base::format(arch::console_sink(), "boot: phases: ");
    phases.print(arch::console_sink(), arch::tsc_hz());
    base::format(arch::console_sink(), "\n");
    arch::console_unlock();
  }
}

}  // namespace

extern "C" [[noreturn]] void kmain(uint32_t mbi_phys) {
  BootPhases phases(boot_entry_tsc);
  init_boot_cpu();
  arch::kprint("\n");
  print_version_line();
  arch::CpuidInsn cpuid_insn;
  const arch::CpuFeatures features = boot_features = arch::decode_cpuid(cpuid_insn);
  phases.end("entry", arch::rdtsc());
  BootState state;
  arch::mb2::BootInfo info = init_memory(mbi_phys, features, &state);
  set_console_wrap(state.cmdline);
  print_boot_report(state);
  phases.end("memory", arch::rdtsc());
  prof::symbols_init(info.elf_sections());
  phases.end("symbols", arch::rdtsc());
  (void)monitor::report_boot_options(state.cmdline);
  Platform platform = discover_platform(info);
  phases.end("platform", arch::rdtsc());
  start_lapic_and_clock(platform, features, monitor::boot_option_is(state.cmdline, "timer", "pit"));
  phases.end("clock", arch::rdtsc());
  start_irq_routing(platform);
  arch::cpu_timer_start_pit_tick();
  mm::tlb_init();
  start_scheduler(platform);
  choose_cpu_paths(cpuid_insn);
  phases.end("scheduler", arch::rdtsc());
  start_aps(platform, state.cmdline);
  uint64_t online_tsc = arch::rdtsc();
  phases.end("aps", online_tsc);
  mm::vm_drop_identity();
  monitor::console_input_init();
  arch::sti();
  print_cpus_report(features, online_tsc, phases, state.cmdline);
  rt::res_init(state.cmdline, state.usable_bytes);
  prof::prof_init(state.cmdline);
  ktest::timing_init(state.cmdline);
  start_page_init();
  ktest::set_boot_cmdline(state.cmdline);
  start_app(state.cmdline);
  monitor::run_jobs(state.cmdline);
}

}  // namespace kernel

// An application processor enters the kernel here (arch::kernel_ap_main,
// smp_boot.h), as the boot CPU does at kmain, on its own stack with its
// per-CPU block: the rest of its set-up, in the boot CPU's order, then its
// scheduler.
extern "C" [[noreturn]] void arch::kernel_ap_main(uint32_t index) {
  const arch::CpuIndex cpu(index);  // as the trampoline's asm passed it
  mm::heap_cpu_online(cpu);
  arch::gdt_init();
  arch::stacks_install_tss(cpu);
  arch::idt_load();
  mm::vm_init_this_cpu();
  mm::tlb_cpu_online(cpu);
  // The LAPIC enabled before its timer: a disabled LAPIC keeps every LVT
  // entry masked ([sdm3] 10.4.7.2).
  arch::lapic_setup_this_cpu();
  arch::cpu_timer_start_this_cpu();
  arch::smp_ap_online(cpu);
  kernel::enable_simd_this_cpu();
  sched::sched_run_ap(cpu);
}
