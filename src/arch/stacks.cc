// Guarded kernel stacks (see stacks.h).
#include "src/arch/stacks.h"

#include "src/arch/boot_paging.h"
#include "src/arch/smp.h"
#include "src/arch/trap.h"
#include "src/arch/tss.h"
#include "src/base/assert.h"

extern "C" char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

namespace arch {
namespace {

constexpr size_t kGuardSize = base::kPageSize;

struct alignas(4096) GuardedIst {
  uint8_t guard[kGuardSize];
  uint8_t stack[kIstStackSize];
};

struct alignas(4096) CpuStacks {
  uint8_t kernel_guard[kGuardSize];
  uint8_t kernel[kKernelStackSize];  // unused for CPU 0, which keeps the boot stack
  GuardedIst ist[kIstStacks];
};

// In .bss.stacks: zero-initialised, page-aligned, beside the boot stack.
[[gnu::section(".bss.stacks")]] constinit CpuStacks cpu_stacks[kMaxCpus]{};
constinit Tss tss[kMaxCpus]{};

constexpr const char* kIstNames[kIstStacks] = {"NMI stack", "double-fault stack", "machine-check stack",
                                               "page-fault stack"};

uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

}  // namespace

void stacks_unmap_guards() {
  boot_unmap_kernel_page(base::virt_of(boot_stack_guard));
  for (uint32_t c = 0; c < kMaxCpus; ++c) {
    boot_unmap_kernel_page(base::virt_of(cpu_stacks[c].kernel_guard));
    for (auto& ist : cpu_stacks[c].ist) boot_unmap_kernel_page(base::virt_of(ist.guard));
  }
  boot_flush_tlb();
}

void stacks_install_tss(CpuIndex cpu) {
  const uint32_t index = cpu.value;
  ASSERT(index < kMaxCpus);
  Tss& t = tss[index];
  for (unsigned k = 0; k < kIstStacks; ++k) t.ist[k] = addr(cpu_stacks[index].ist[k].stack + kIstStackSize);
  tss_install(cpu, &t);
}

Tss& cpu_tss(CpuIndex cpu) {
  ASSERT(cpu.value < kMaxCpus);
  return tss[cpu.value];
}

uint64_t page_fault_stack_guard(CpuIndex cpu) {
  ASSERT(cpu.value < kMaxCpus);
  return addr(cpu_stacks[cpu.value].ist[kIstPageFault - 1].guard);
}

uint64_t ap_kernel_stack_top(CpuIndex cpu) {
  ASSERT(cpu.value >= 1 && cpu.value < kMaxCpus);
  return addr(cpu_stacks[cpu.value].kernel + kKernelStackSize);
}

bool is_stack_guard_page(uint64_t va) {
  StackInfo info;
  return find_stack(va, &info) && info.in_guard;
}

bool find_stack(uint64_t a, StackInfo* info) {
  auto in = [&](const void* lo, size_t size) { return a >= addr(lo) && a < addr(lo) + size; };
  if (in(boot_stack_guard, kGuardSize + kKernelStackSize)) {
    *info = StackInfo{"boot stack", 0, addr(boot_stack_bottom), addr(boot_stack_top), a < addr(boot_stack_bottom)};
    return true;
  }
  uint64_t base = addr(cpu_stacks);
  if (a < base || a >= base + sizeof(cpu_stacks)) return false;
  uint32_t c = static_cast<uint32_t>((a - base) / sizeof(CpuStacks));
  const CpuStacks& s = cpu_stacks[c];
  if (in(s.kernel_guard, kGuardSize + kKernelStackSize)) {
    *info = StackInfo{"kernel stack", c, addr(s.kernel), addr(s.kernel) + kKernelStackSize, a < addr(s.kernel)};
    return true;
  }
  for (unsigned k = 0; k < kIstStacks; ++k) {
    if (in(&s.ist[k], sizeof(GuardedIst))) {
      *info = StackInfo{kIstNames[k], c, addr(s.ist[k].stack), addr(s.ist[k].stack) + kIstStackSize,
                        a < addr(s.ist[k].stack)};
      return true;
    }
  }
  return false;
}

}  // namespace arch
