// In-kernel tests of the spinlock family on the real interrupt flag:
// each lock turns interrupts off while held and gives back the state it
// found, an IrqSpinLockGuard may drop and retake its lock, and a SpinLock
// nested inside an IrqSpinLock keeps interrupts off until the outer hold
// ends.
#include "src/arch/percpu.h"
#include "src/arch/spinlock.h"
#include "src/base/guarded.h"
#include "src/ktest/ktest.h"

namespace {

bool irq_on() { return arch::CpuIrq{}.enabled(); }

KTEST(spinlock, irq_spinlock_restores_the_flag_it_found) {
  arch::IrqSpinLock l;
  const bool before = irq_on();
  l.lock();
  KEXPECT_TRUE(!irq_on());
  KEXPECT_TRUE(l.is_locked());
  l.unlock();
  KEXPECT_EQ(irq_on(), before);
  KEXPECT_TRUE(!l.is_locked());
  // With interrupts already off, unlock must not turn them on.
  const uint64_t flags = arch::irq_save();
  l.lock();
  l.unlock();
  KEXPECT_TRUE(!irq_on());
  arch::irq_restore(flags);
  KEXPECT_EQ(irq_on(), before);
}

KTEST(spinlock, irq_spinlock_guard_drops_and_retakes) {
  arch::IrqSpinLock l;
  const bool before = irq_on();
  {
    arch::IrqSpinLockGuard g(l);
    KEXPECT_TRUE(!irq_on());
    g.unlock();
    KEXPECT_TRUE(!l.is_locked());
    KEXPECT_EQ(irq_on(), before);
    g.lock();
    KEXPECT_TRUE(l.is_locked());
    KEXPECT_TRUE(!irq_on());
  }
  KEXPECT_TRUE(!l.is_locked());
  KEXPECT_EQ(irq_on(), before);
}

KTEST(spinlock, spinlock_nests_inside_irq_spinlock) {
  arch::IrqSpinLock outer;
  arch::SpinLock inner;
  const bool before = irq_on();
  const uint32_t depth = arch::this_cpu().cli.depth;
  {
    arch::IrqSpinLockGuard g(outer);
    {
      arch::SpinLockGuard h(inner);
      KEXPECT_EQ(arch::this_cpu().cli.depth, depth + 1);
    }
    // The inner hold found interrupts off and leaves them off.
    KEXPECT_TRUE(!irq_on());
    KEXPECT_EQ(arch::this_cpu().cli.depth, depth);
  }
  KEXPECT_EQ(irq_on(), before);
}

KTEST(spinlock, guarded_value_is_reached_with_its_spinlock_held) {
  base::Guarded<uint64_t, arch::SpinLock> g(41);
  const uint32_t depth = arch::this_cpu().cli.depth;
  const uint64_t seen = g.with([&](uint64_t& v) {
    // Held: interrupts off and one more SpinLock on this CPU.
    KEXPECT_TRUE(!irq_on());
    KEXPECT_EQ(arch::this_cpu().cli.depth, depth + 1);
    return ++v;
  });
  KEXPECT_EQ(seen, 42u);
  KEXPECT_EQ(arch::this_cpu().cli.depth, depth);
  KEXPECT_TRUE(!g.lock().is_locked());
}

}  // namespace
