// Guarded kernel stacks (see stacks.h).
#include "src/arch/stacks.h"

#include "src/arch/boot_paging.h"
#include "src/arch/smp.h"
#include "src/arch/trap.h"
#include "src/arch/tss.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"

extern "C" char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

namespace arch {
namespace {

using base::MemoryOrder;

static_assert(kStackGuardSize == base::kPageSize);
static_assert(kApStackPieceCount == kApFirstIstPiece + kIstStacks, "one AP stack piece per IST slot");

struct alignas(4096) GuardedIst {
  uint8_t guard[kStackGuardSize];
  uint8_t stack[kIstStackSize];
};

// The boot CPU's IST stacks, in .bss.stacks: zero-initialised,
// page-aligned, beside the boot stack. (Its kernel stack is the boot stack.)
[[gnu::section(".bss.stacks")]] constinit GuardedIst boot_ist[kIstStacks]{};
constinit Tss tss[kMaxCpus]{};

// The APs' region. Written once by the boot CPU before any AP starts, but
// read by find_stack from NMIs (a backtrace, the watchdog) that may already
// be running: the count is published after the base, with release.
constinit uint64_t ap_region = 0;
constinit base::Atomic<uint32_t> ap_slots{0};

uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

const char* ist_name(unsigned k) { return kApStackPieces[kApFirstIstPiece + k].what; }

// The lowest usable address of CPU `index`'s IST stack `k` (0-based).
uint64_t ist_lo(uint32_t index, unsigned k) {
  if (index == 0) return addr(boot_ist[k].stack);
  ASSERT_MSG(index < stacks_cpus(), "stacks: cpu {} has no stacks ({} CPUs have)", index, stacks_cpus());
  return ap_stack_lo(ap_region, index - 1, kApFirstIstPiece + k);
}

}  // namespace

void stacks_unmap_guards() {
  boot_unmap_kernel_page(base::virt_of(boot_stack_guard));
  for (auto& ist : boot_ist) boot_unmap_kernel_page(base::virt_of(ist.guard));
  boot_flush_tlb();
}

void stacks_set_ap_region(uint64_t region, uint32_t aps) {
  ASSERT_MSG(ap_slots.load(MemoryOrder::kRelaxed) == 0, "stacks: the APs' stacks are set twice");
  ASSERT_MSG(aps <= kMaxCpus - 1, "stacks: {} APs beyond MAX_CPUS={}", aps, kMaxCpus);
  ASSERT_MSG(region % base::kPageSize == 0, "stacks: AP region {:#x} not page-aligned", region);
  ap_region = region;
  ap_slots.store(aps, MemoryOrder::kRelease);
}

uint32_t stacks_cpus() { return 1 + ap_slots.load(MemoryOrder::kAcquire); }

void stacks_install_tss(CpuIndex cpu) {
  const uint32_t index = cpu.value;
  ASSERT(index < kMaxCpus);
  Tss& t = tss[index];
  for (unsigned k = 0; k < kIstStacks; ++k) t.ist[k] = ist_lo(index, k) + kIstStackSize;
  tss_install(cpu, &t);
}

Tss& cpu_tss(CpuIndex cpu) {
  ASSERT(cpu.value < kMaxCpus);
  return tss[cpu.value];
}

uint64_t page_fault_stack_guard(CpuIndex cpu) { return ist_lo(cpu.value, kIstPageFault - 1) - kStackGuardSize; }

uint64_t ap_kernel_stack_top(CpuIndex cpu) {
  const uint32_t index = cpu.value;
  ASSERT_MSG(index >= 1 && index < stacks_cpus(), "stacks: AP {} has no kernel stack ({} CPUs have stacks)", index,
             stacks_cpus());
  return ap_stack_lo(ap_region, index - 1, kApKernelPiece) + kKernelStackSize;
}

uint64_t ap_landing_stack_top(uint32_t ticket) {
  ASSERT_MSG(ticket + 1 < stacks_cpus(), "stacks: no landing stack for ticket {} ({} CPUs have stacks)", ticket,
             stacks_cpus());
  return ap_stack_lo(ap_region, ticket, kApLandingPiece) + kApLandingStackSize;
}

bool is_stack_guard_page(base::VirtAddr va) {
  StackInfo info;
  return find_stack(va, &info) && info.in_guard;
}

bool find_stack(base::VirtAddr va, StackInfo* info) {
  const uint64_t a = va.value();
  auto in = [&](const void* lo, size_t size) { return a >= addr(lo) && a < addr(lo) + size; };
  if (in(boot_stack_guard, kStackGuardSize + kKernelStackSize)) {
    *info = StackInfo{"boot stack", 0, addr(boot_stack_bottom), addr(boot_stack_top), a < addr(boot_stack_bottom)};
    return true;
  }
  for (unsigned k = 0; k < kIstStacks; ++k) {
    if (in(&boot_ist[k], sizeof(GuardedIst))) {
      *info = StackInfo{ist_name(k), 0, addr(boot_ist[k].stack), addr(boot_ist[k].stack) + kIstStackSize,
                        a < addr(boot_ist[k].stack)};
      return true;
    }
  }
  const uint32_t aps = ap_slots.load(MemoryOrder::kAcquire);
  return classify_ap_stack(ap_region, aps, a, info);
}

}  // namespace arch
