// Tests for the IOAPIC logic: exact indirect-register writes and their order
// (high dword before low), version decode, masking, and ISA routing from the
// interrupt source overrides of a MADT QEMU really built (testdata/boot).
#include "src/arch/ioapic.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "src/base/testing/testdata.h"

namespace arch {
namespace {

// An IOAPIC behind its two MMIO registers: IOREGSEL selects, IOWIN reads or
// writes the selected indirect register. Logs indirect accesses.
class FakeIoApic {
 public:
  struct Op {
    bool write;
    uint32_t index;
    uint32_t value;
    bool operator==(const Op&) const = default;
  };

  explicit FakeIoApic(uint32_t version) { regs[kIoApicVersion] = version; }

  uint32_t mmio_read(uint32_t offset) {
    EXPECT_EQ(offset, kIoApicWindow) << "only IOWIN is read";
    uint32_t v = regs[sel_];
    log.push_back({false, sel_, v});
    return v;
  }
  void mmio_write(uint32_t offset, uint32_t v) {
    if (offset == kIoApicRegSel) {
      EXPECT_LE(v, 0xffu) << "IOREGSEL is 8 bits";
      sel_ = v;
      return;
    }
    ASSERT_EQ(offset, kIoApicWindow);
    EXPECT_NE(sel_, kIoApicVersion) << "version is read-only";
    log.push_back({true, sel_, v});
    regs[sel_] = v;
  }
  std::vector<Op> writes() const {
    std::vector<Op> w;
    for (const Op& op : log)
      if (op.write) w.push_back(op);
    return w;
  }

  std::map<uint32_t, uint32_t> regs;
  std::vector<Op> log;

 private:
  uint32_t sel_ = 0;
};

struct FakeRegs {
  FakeIoApic* f;
  uint32_t read(uint32_t offset) { return f->mmio_read(offset); }
  void write(uint32_t offset, uint32_t v) { f->mmio_write(offset, v); }
};

constexpr uint32_t kQemuVersion = 0x0017'0020;  // QEMU: version 0x20, 24 entries

TEST(IoApic, MaxRedirectionEntry) {
  FakeIoApic fake(kQemuVersion);
  IoApic<FakeRegs> io(FakeRegs{&fake});
  EXPECT_EQ(io.max_redirection_entry(), 23u);
  EXPECT_EQ(fake.log, (std::vector<FakeIoApic::Op>{{false, kIoApicVersion, kQemuVersion}}));

  FakeIoApic big(0xff55'0011);  // reserved bits set must not leak in
  EXPECT_EQ(IoApic<FakeRegs>(FakeRegs{&big}).max_redirection_entry(), 0x55u);
}

TEST(IoApic, RouteWritesHighThenLow) {
  FakeIoApic fake(kQemuVersion);
  IoApic<FakeRegs> io(FakeRegs{&fake});
  io.route(2, Vector(0x20), ApicId(1), false, false);
  io.route(9, Vector(0x29), ApicId(0xfe), true, true);
  using Op = FakeIoApic::Op;
  EXPECT_EQ(fake.log, (std::vector<Op>{
                          {true, 0x15, 0x0100'0000},
                          {true, 0x14, 0x0000'0020},
                          {true, 0x23, 0xfe00'0000},
                          {true, 0x22, 0x0000'a029},
                      }));
}

TEST(IoApic, RouteUnmasksAMaskedEntry) {
  FakeIoApic fake(kQemuVersion);
  fake.regs[ioapic_redir_low(4)] = 0x0001'0000;
  IoApic<FakeRegs> io(FakeRegs{&fake});
  io.route(4, Vector(0x24), ApicId(0), false, false);
  EXPECT_EQ(fake.regs[ioapic_redir_low(4)] & kRedirMasked, 0u);
  EXPECT_EQ(fake.regs[ioapic_redir_low(4)], 0x24u);
  EXPECT_EQ(fake.regs[ioapic_redir_high(4)], 0u);
}

TEST(IoApic, RouteNmiIsEdgeTriggeredWithoutAVector) {
  FakeIoApic fake(kQemuVersion);
  fake.regs[ioapic_redir_low(2)] = 0x0001'a030;  // masked, level, a stale vector
  IoApic<FakeRegs> io(FakeRegs{&fake});
  io.route_nmi(2, ApicId(0), false);
  io.route_nmi(9, ApicId(7), true);
  using Op = FakeIoApic::Op;
  // Delivery mode 100 (NMI), vector 0, edge, unmasked; polarity kept.
  EXPECT_EQ(fake.writes(), (std::vector<Op>{
                               {true, 0x15, 0x0000'0000},
                               {true, 0x14, 0x0000'0400},
                               {true, 0x23, 0x0700'0000},
                               {true, 0x22, 0x0000'2400},
                           }));
  EXPECT_DEATH(io.route_nmi(0, ApicId(0x100), false), "does not fit 8 bits");
}

TEST(IoApic, MaskAllMasksEveryPin) {
  FakeIoApic fake(kQemuVersion);
  for (uint32_t pin = 0; pin < 24; ++pin) {
    fake.regs[ioapic_redir_low(pin)] = 0x0000'a030 + pin;  // live, level, active low
    fake.regs[ioapic_redir_high(pin)] = 0x0200'0000;
  }
  IoApic<FakeRegs> io(FakeRegs{&fake});
  io.mask_all();
  std::vector<FakeIoApic::Op> want;
  for (uint32_t pin = 0; pin < 24; ++pin) want.push_back({true, ioapic_redir_low(pin), 0x0001'0000});
  EXPECT_EQ(fake.writes(), want);
  for (uint32_t pin = 0; pin < 24; ++pin) {
    EXPECT_NE(fake.regs[ioapic_redir_low(pin)] & kRedirMasked, 0u) << pin;
  }
  EXPECT_EQ(fake.regs.count(ioapic_redir_low(24)), 0u) << "no write past the last pin";
}

TEST(IoApic, MaskKeepsTheEntry) {
  FakeIoApic fake(kQemuVersion);
  IoApic<FakeRegs> io(FakeRegs{&fake});
  io.route(11, Vector(0x2b), ApicId(3), true, true);
  fake.log.clear();
  io.mask(11);
  using Op = FakeIoApic::Op;
  EXPECT_EQ(fake.log, (std::vector<Op>{{false, 0x26, 0x0000'a02b}, {true, 0x26, 0x0001'a02b}}));
  EXPECT_EQ(fake.regs[0x27], 0x0300'0000u);
}

TEST(IoApicDeathTest, RejectsWhatCannotBeEncoded) {
  FakeIoApic fake(kQemuVersion);
  IoApic<FakeRegs> io(FakeRegs{&fake});
  EXPECT_DEATH(io.route(0, Vector(0x20), ApicId(0x100), false, false), "does not fit 8 bits");
  EXPECT_DEATH(io.route(0, Vector(0x0f), ApicId(0), false, false), "reserved");
  EXPECT_DEATH(io.route(kIoApicMaxPin + 1, Vector(0x20), ApicId(0), false, false), "out of range");
  EXPECT_DEATH(io.mask(kIoApicMaxPin + 1), "out of range");
}

TEST(IoApicMmio, AccessesThe32BitWindow) {
  uint32_t page[8] = {};
  IoApicMmio mmio{page};
  mmio.write(kIoApicRegSel, 0x12);
  mmio.write(kIoApicWindow, 0xabcd);
  EXPECT_EQ(page[0], 0x12u);
  EXPECT_EQ(page[4], 0xabcdu);
  EXPECT_EQ(mmio.read(kIoApicWindow), 0xabcdu);
}

acpi::InterruptOverride iso(uint8_t bus, uint8_t irq, uint32_t gsi, acpi::Polarity p, acpi::Trigger t) {
  acpi::InterruptOverride o;
  o.bus = bus;
  o.source_irq = irq;
  o.gsi = gsi;
  o.flags = static_cast<uint16_t>(static_cast<uint16_t>(p) | (static_cast<uint16_t>(t) << 2));
  o.polarity = p;
  o.trigger = t;
  return o;
}

TEST(IsaIrqRoute, FlagsDecode) {
  using acpi::Polarity;
  using acpi::Trigger;
  const acpi::InterruptOverride os[] = {
      iso(0, 3, 13, Polarity::kActiveLow, Trigger::kLevel),
      iso(0, 4, 14, Polarity::kActiveHigh, Trigger::kEdge),
      iso(0, 6, 16, Polarity::kReserved, Trigger::kReserved),
      iso(1, 7, 30, Polarity::kActiveLow, Trigger::kLevel),  // not ISA: ignored
      iso(0, 8, 18, Polarity::kActiveLow, Trigger::kConforming),
  };
  base::Span<const acpi::InterruptOverride> s(os);
  EXPECT_EQ(isa_irq_route(3, s), (IsaRoute{13, true, true}));
  EXPECT_EQ(isa_irq_route(4, s), (IsaRoute{14, false, false}));
  EXPECT_EQ(isa_irq_route(6, s), (IsaRoute{16, false, false}));
  EXPECT_EQ(isa_irq_route(7, s), (IsaRoute{7, false, false}));
  EXPECT_EQ(isa_irq_route(8, s), (IsaRoute{18, true, false}));
  EXPECT_EQ(isa_irq_route(1, s), (IsaRoute{1, false, false}));
  EXPECT_EQ(isa_irq_route(1, {}), (IsaRoute{1, false, false}));
}

TEST(IsaIrqRoute, RealQemuMadt) {
  for (const char* config : {"m128M-smp2-qemu64", "m2G-smp4-q35-max"}) {
    SCOPED_TRACE(config);
    std::vector<uint8_t> bytes =
        base::testing::read_testdata(std::string("testdata/boot/") + config + ".acpi.APIC.bin");
    ASSERT_FALSE(bytes.empty()) << "run from the repo root or under Bazel";
    acpi::Table table{0, base::Span<const uint8_t>(bytes.data(), bytes.size())};
    acpi::MadtArrays<16> arrays;
    acpi::ParseError err;
    auto madt = acpi::parse_madt(table, arrays.storage(), &err);
    ASSERT_TRUE(madt.ok()) << err.what;
    const auto& list = madt.value().overrides;
    base::Span<const acpi::InterruptOverride> s(list.begin(), list.size());

    // IRQ 0 (the PIT) -> GSI 2, flags 0: ISA defaults.
    EXPECT_EQ(isa_irq_route(0, s), (IsaRoute{2, false, false}));
    // IRQ 9 (SCI), flags 0xd: active high, level.
    EXPECT_EQ(isa_irq_route(9, s), (IsaRoute{9, false, true}));
    // No override: identity, edge, active high.
    EXPECT_EQ(isa_irq_route(1, s), (IsaRoute{1, false, false}));
    EXPECT_EQ(isa_irq_route(4, s), (IsaRoute{4, false, false}));

    // And programmed: the PIT on pin 2 (GSI base 0) to CPU 0.
    ASSERT_EQ(madt.value().ioapics.size(), 1u);
    const uint32_t gsi_base = madt.value().ioapics[0].gsi_base;
    FakeIoApic fake(kQemuVersion);
    IoApic<FakeRegs> io(FakeRegs{&fake});
    IsaRoute pit = isa_irq_route(0, s);
    IsaRoute sci = isa_irq_route(9, s);
    io.route(pit.gsi - gsi_base, Vector(0x20), ApicId(0), pit.active_low, pit.level);
    io.route(sci.gsi - gsi_base, Vector(0x29), ApicId(0), sci.active_low, sci.level);
    EXPECT_EQ(fake.regs[0x14], 0x0000'0020u);
    EXPECT_EQ(fake.regs[0x22], 0x0000'8029u);
  }
}

}  // namespace
}  // namespace arch
