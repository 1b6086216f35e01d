#include "src/arch/cli_nesting.h"

#include <gtest/gtest.h>

namespace {

struct FakeIrq {
  bool on = true;
  int enables = 0;
  bool enabled() const { return on; }
  void disable() { on = false; }
  void enable() {
    on = true;
    ++enables;
  }
};

TEST(CliNesting, RestoresOnlyAtOutermostPop) {
  FakeIrq irq;
  arch::CliState s;
  arch::push_cli(irq, s);
  arch::push_cli(irq, s);
  EXPECT_FALSE(irq.on);
  arch::pop_cli(irq, s);
  EXPECT_FALSE(irq.on) << "inner pop keeps interrupts off";
  arch::pop_cli(irq, s);
  EXPECT_TRUE(irq.on);
  EXPECT_EQ(irq.enables, 1);
}

TEST(CliNesting, StaysOffWhenStartedOff) {
  FakeIrq irq;
  irq.on = false;
  arch::CliState s;
  arch::push_cli(irq, s);
  arch::pop_cli(irq, s);
  EXPECT_FALSE(irq.on);
  EXPECT_EQ(irq.enables, 0);
}

TEST(CliNestingDeathTest, Misuse) {
  FakeIrq irq;
  arch::CliState s;
  irq.on = false;
  EXPECT_DEATH(arch::pop_cli(irq, s), "pop_cli without a matching push_cli");
  arch::push_cli(irq, s);
  irq.on = true;  // something re-enabled interrupts behind our back
  EXPECT_DEATH(arch::pop_cli(irq, s), "interrupts enabled inside a push_cli region");
}

}  // namespace
