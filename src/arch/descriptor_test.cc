#include "src/arch/descriptor.h"

#include <gtest/gtest.h>

namespace {

using namespace arch;

// Reference values: the flat 64-bit descriptors every x86-64 kernel uses
// ([sdm3] 3.4.5): 0x00af9a000000ffff for kernel code, 0x00cf92000000ffff
// for kernel data.
TEST(Descriptor, KernelSegments) {
  EXPECT_EQ(segment_descriptor(true, 0), 0x00af9a000000ffffull);
  EXPECT_EQ(segment_descriptor(false, 0), 0x00cf92000000ffffull);
  EXPECT_EQ(segment_descriptor(true, 3), 0x00affa000000ffffull);
  EXPECT_EQ(segment_descriptor(false, 3), 0x00cff2000000ffffull);
}

TEST(Descriptor, TssSplitsBaseAndLimit) {
  SystemDescriptor d = tss_descriptor(0xffffffff80123456ull, 0x67);
  EXPECT_EQ(d.low & 0xffff, 0x67u);                // limit 15:0
  EXPECT_EQ((d.low >> 16) & 0xffffff, 0x123456u);  // base 23:0
  EXPECT_EQ((d.low >> 40) & 0xf, 0x9u);            // available 64-bit TSS
  EXPECT_EQ((d.low >> 47) & 1, 1u);                // present
  EXPECT_EQ((d.low >> 48) & 0xf, 0u);              // limit 19:16
  EXPECT_EQ((d.low >> 56) & 0xff, 0x80u);          // base 31:24
  EXPECT_EQ(d.high, 0xffffffffull);                // base 63:32
  EXPECT_EQ((tss_descriptor(0, 0xabcde).low >> 48) & 0xf, 0xau);
}

TEST(Descriptor, InterruptGate) {
  IdtGate g = interrupt_gate(0xffffffff80101234ull, 2, 0);
  EXPECT_EQ(gate_offset(g), 0xffffffff80101234ull);
  EXPECT_EQ(g.selector, kKernelCodeSelector);
  EXPECT_EQ(g.ist, 2);
  EXPECT_EQ(g.type_attr, 0x8e);
  EXPECT_EQ(interrupt_gate(0, 9, 3).ist, 1) << "IST is three bits";
  EXPECT_EQ(interrupt_gate(0, 0, 3).type_attr, 0xee);
  EXPECT_EQ(g.reserved, 0u);
}

}  // namespace
