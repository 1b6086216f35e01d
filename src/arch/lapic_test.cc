// Tests for the local APIC logic in both modes: exact register writes and
// their order (xAPIC ICR high before low), delivery-status polling with its
// bound, and a simulated counting-down timer wired in through callbacks.
#include "src/arch/lapic.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "src/arch/testing/fake_msr.h"

namespace arch {
namespace {

using testing::FakeMsr;
using testing::FakeMsrBank;
using Access = FakeMsrBank::Access;

// An xAPIC register page: stored values, a log, per-offset callbacks.
class FakeXapic {
 public:
  struct Op {
    bool write;
    uint32_t offset;
    uint32_t value;
    bool operator==(const Op&) const = default;
  };

  void set(uint32_t offset, uint32_t v) { regs_[offset] = v; }
  uint32_t get(uint32_t offset) { return regs_[offset]; }
  void on_read(uint32_t offset, std::function<uint32_t()> f) { read_hooks_[offset] = std::move(f); }
  void on_write(uint32_t offset, std::function<void(uint32_t)> f) { write_hooks_[offset] = std::move(f); }

  uint32_t read(uint32_t offset) {
    EXPECT_EQ(offset % 16, 0u);
    auto h = read_hooks_.find(offset);
    uint32_t v = h != read_hooks_.end() ? h->second() : regs_[offset];
    log.push_back({false, offset, v});
    return v;
  }
  void write(uint32_t offset, uint32_t v) {
    EXPECT_EQ(offset % 16, 0u);
    log.push_back({true, offset, v});
    regs_[offset] = v;
    if (auto h = write_hooks_.find(offset); h != write_hooks_.end()) h->second(v);
  }
  std::vector<Op> writes() const {
    std::vector<Op> w;
    for (const Op& op : log)
      if (op.write) w.push_back(op);
    return w;
  }

  std::vector<Op> log;
  std::vector<uint64_t> tsc_deadlines;
  int relaxes = 0;

 private:
  std::map<uint32_t, uint32_t> regs_;
  std::map<uint32_t, std::function<uint32_t()>> read_hooks_;
  std::map<uint32_t, std::function<void(uint32_t)>> write_hooks_;
};

struct FakeXapicRegs {
  static constexpr bool kX2apic = false;
  FakeXapic* dev;
  uint32_t read(uint32_t offset) const { return dev->read(offset); }
  void write(uint32_t offset, uint32_t v) const { dev->write(offset, v); }
  void write_tsc_deadline(uint64_t tsc) const {
    dev->log.push_back({true, 0xffff, static_cast<uint32_t>(tsc)});  // marks the order
    dev->tsc_deadlines.push_back(tsc);
  }
  void relax() const { ++dev->relaxes; }
};

using XLapic = Lapic<FakeXapicRegs>;
using X2Lapic = Lapic<X2apicMsr<FakeMsr>>;

// The LAPIC timer as the SDM describes it [sdm3] 10.5.4: counts down at
// bus clock / divisor from the initial count; one-shot stops at 0, periodic
// reloads; in TSC-deadline mode the current count reads 0.
class SimTimer {
 public:
  uint64_t now = 0;  // bus clocks

  void write_divide(uint32_t v) { divisor_ = timer_divisor(static_cast<TimerDivide>(v)); }
  void write_lvt(uint32_t v) { lvt_ = v; }
  void write_initial(uint32_t v) {
    initial_ = v;
    start_ = now;
  }
  uint32_t current() const {
    uint32_t mode = lvt_ & (0b11 << 17);
    if (mode == static_cast<uint32_t>(TimerMode::kTscDeadline) || initial_ == 0) return 0;
    uint64_t ticks = (now - start_) / divisor_;
    if (mode == static_cast<uint32_t>(TimerMode::kPeriodic)) return static_cast<uint32_t>(initial_ - ticks % initial_);
    return ticks >= initial_ ? 0 : static_cast<uint32_t>(initial_ - ticks);
  }
  /// Interrupts delivered so far (unmasked ones).
  uint64_t fired() const {
    if (initial_ == 0 || (lvt_ & kLvtMasked)) return 0;
    uint64_t ticks = (now - start_) / divisor_;
    uint32_t mode = lvt_ & (0b11 << 17);
    if (mode == static_cast<uint32_t>(TimerMode::kPeriodic)) return ticks / initial_;
    return ticks >= initial_ ? 1 : 0;
  }

  void attach(FakeXapic& dev) {
    dev.on_write(kLapicTimerDivide, [this](uint32_t v) { write_divide(v); });
    dev.on_write(kLapicLvtTimer, [this](uint32_t v) { write_lvt(v); });
    dev.on_write(kLapicTimerInitialCount, [this](uint32_t v) { write_initial(v); });
    dev.on_read(kLapicTimerCurrentCount, [this] { return current(); });
  }
  void attach(FakeMsrBank& bank) {
    bank.on_write(0x83e, [this](uint64_t v) { write_divide(static_cast<uint32_t>(v)); });
    bank.on_write(0x832, [this](uint64_t v) { write_lvt(static_cast<uint32_t>(v)); });
    bank.on_write(0x838, [this](uint64_t v) { write_initial(static_cast<uint32_t>(v)); });
    bank.on_read(0x839, [this] { return uint64_t{current()}; });
  }

 private:
  uint32_t divisor_ = 2;  // the reset value of the divide register is 0 = by 2
  uint32_t lvt_ = kLvtMasked;
  uint32_t initial_ = 0;
  uint64_t start_ = 0;
};

// --- Encodings -------------------------------------------------------------

TEST(LapicEncoding, DivideConfiguration) {
  // [sdm3] figure 10-10, bits 3,1,0.
  const std::pair<uint32_t, uint32_t> table[] = {{1, 0b1011},  {2, 0b0000},  {4, 0b0001},  {8, 0b0010},
                                                 {16, 0b0011}, {32, 0b1000}, {64, 0b1001}, {128, 0b1010}};
  for (auto [divisor, bits] : table) {
    auto d = timer_divide(divisor);
    ASSERT_TRUE(d.ok()) << divisor;
    EXPECT_EQ(static_cast<uint32_t>(d.value()), bits) << divisor;
    EXPECT_EQ(timer_divisor(d.value()), divisor);
  }
  for (uint32_t bad : {0u, 3u, 6u, 100u, 256u, 0x8000'0000u}) EXPECT_FALSE(timer_divide(bad).ok()) << bad;
}

TEST(LapicEncoding, IcrAndLvt) {
  EXPECT_EQ(icr_fixed(Vector(0x30)), 0x0000'4030u);
  EXPECT_EQ(icr_fixed_all_but_self(Vector(0xfd)), 0x000c'40fdu);
  EXPECT_EQ(icr_nmi(), 0x0000'4400u);
  EXPECT_EQ(icr_init_assert(), 0x0000'c500u);
  EXPECT_EQ(icr_startup(0x9f), 0x0000'469fu);
  EXPECT_EQ(x2apic_icr(0xffff'fffe, icr_fixed(Vector(0x30))), 0xffff'fffe'0000'4030u);
  EXPECT_EQ(lvt_timer_value(Vector(0x31), TimerMode::kOneShot, false), 0x31u);
  // Performance LVT as NMI: delivery mode 100b in bits 10:8, mask bit 16.
  EXPECT_EQ(lvt_perfmon_nmi(false), 0x0000'0400u);
  EXPECT_EQ(lvt_perfmon_nmi(true), 0x0001'0400u);
  EXPECT_EQ(lvt_perfmon_nmi(true) & kLvtMasked, kLvtMasked);
  EXPECT_EQ(sipi_vector(0x9'f000).value(), 0x9f);
  EXPECT_FALSE(sipi_vector(0x10'0000).ok());
  EXPECT_FALSE(sipi_vector(0xb'f000).ok());
  EXPECT_EQ(sipi_vector(0xc'0000).value(), 0xc0);
  LapicVersion v = decode_lapic_version(0x0105'0014);
  EXPECT_EQ(v.version, 0x14);
  EXPECT_EQ(v.max_lvt, 5);
  EXPECT_TRUE(v.eoi_broadcast_suppression);
}

// --- xAPIC -----------------------------------------------------------------

TEST(LapicXapic, IdVersionEnableErrors) {
  FakeXapic dev;
  dev.set(kLapicId, 0x0300'0000);
  dev.set(kLapicVersion, 0x0005'0014);  // what QEMU reports
  XLapic apic(FakeXapicRegs{&dev});
  EXPECT_EQ(apic.id(), ApicId(3));
  EXPECT_EQ(apic.version().version, 0x14);
  EXPECT_EQ(apic.version().max_lvt, 5);
  EXPECT_FALSE(apic.version().eoi_broadcast_suppression);

  dev.log.clear();
  apic.enable(Vector(0xff));
  apic.set_task_priority(0);
  apic.set_error_vector(Vector(0xfe));
  apic.eoi();
  EXPECT_EQ(dev.writes(),
            (std::vector<FakeXapic::Op>{
                {true, kLapicSvr, 0x1ff}, {true, kLapicTpr, 0}, {true, kLapicLvtError, 0xfe}, {true, kLapicEoi, 0}}));
  apic.disable(Vector(0xff));
  EXPECT_EQ(dev.get(kLapicSvr), 0xffu);

  // The ESR is written (latching new errors) before it is read.
  int writes = 0;
  dev.on_write(kLapicEsr, [&](uint32_t) { ++writes; });
  dev.on_read(kLapicEsr, [&] { return writes > 0 ? 0x40u : 0u; });  // 0x40: send illegal vector
  dev.log.clear();
  EXPECT_EQ(apic.read_error_status(), 0x40u);
  EXPECT_EQ(dev.log, (std::vector<FakeXapic::Op>{{true, kLapicEsr, 0}, {false, kLapicEsr, 0x40}}));
}

TEST(LapicXapic, IpiWritesHighThenLowAndWaitsForDelivery) {
  FakeXapic dev;
  int pending_reads = 3;
  dev.on_read(kLapicIcrLow, [&] {
    uint32_t low = dev.get(kLapicIcrLow);
    return pending_reads-- > 0 ? low | kIcrPending : low;
  });
  XLapic apic(FakeXapicRegs{&dev});
  ASSERT_TRUE(apic.send_fixed(ApicId(7), Vector(0x40)).ok());
  EXPECT_EQ(dev.writes(),
            (std::vector<FakeXapic::Op>{{true, kLapicIcrHigh, 0x0700'0000}, {true, kLapicIcrLow, 0x0000'4040}}));
  EXPECT_EQ(dev.relaxes, 3);
  // The poll reads only the ICR, four times (three pending, one idle).
  EXPECT_EQ(dev.log.size(), 2u + 4u);
  for (size_t i = 2; i < dev.log.size(); ++i) EXPECT_EQ(dev.log[i].offset, kLapicIcrLow);
}

TEST(LapicXapic, NmiFromNmiWaitsForTheInterruptedSendAndRestoresItsDestination) {
  FakeXapic dev;
  // The interrupted code wrote its destination (CPU 5) and was about to
  // write the low dword; a send of its own is still pending for two polls.
  dev.set(kLapicIcrHigh, 0x0500'0000);
  int pending_reads = 2;
  dev.on_read(kLapicIcrLow, [&] {
    uint32_t low = dev.get(kLapicIcrLow);
    return pending_reads-- > 0 ? low | kIcrPending : low;
  });
  XLapic apic(FakeXapicRegs{&dev});
  ASSERT_TRUE(apic.send_nmi_from_nmi(ApicId(3)).ok());
  EXPECT_EQ(dev.writes(), (std::vector<FakeXapic::Op>{{true, kLapicIcrHigh, 0x0300'0000},
                                                      {true, kLapicIcrLow, 0x0000'4400},
                                                      {true, kLapicIcrHigh, 0x0500'0000}}));
  EXPECT_EQ(dev.relaxes, 2);
  // No ICR write happened while the earlier send was pending.
  size_t first_write = 0;
  while (!dev.log[first_write].write) ++first_write;
  EXPECT_EQ(dev.log[first_write - 1].offset, kLapicIcrHigh) << "the saved high dword is read last";
  EXPECT_EQ(dev.log[first_write - 2].value & kIcrPending, 0u) << "idle seen before the first write";
}

TEST(LapicX2apic, NmiFromNmiIsOneIcrWrite) {
  FakeMsrBank bank;
  X2Lapic apic(X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  ASSERT_TRUE(apic.send_nmi_from_nmi(ApicId(0x1'0002)).ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{{true, 0x830, x2apic_icr(0x1'0002, 0x0000'4400)}}));
}

TEST(LapicXapic, DeliveryTimeoutIsAnError) {
  FakeXapic dev;
  dev.on_read(kLapicIcrLow, [] { return kIcrPending; });  // stuck
  XLapic apic(FakeXapicRegs{&dev}, /*icr_spin_limit=*/100);
  base::Status s = apic.send_nmi(ApicId(1));
  EXPECT_EQ(s.error(), base::Error::kTimedOut);
  EXPECT_EQ(dev.relaxes, 100);
}

TEST(LapicXapic, RejectsBadArguments) {
  FakeXapic dev;
  XLapic apic(FakeXapicRegs{&dev});
  EXPECT_EQ(apic.send_fixed(ApicId(256), Vector(0x40)).error(), base::Error::kInvalidArgument);  // 8-bit ids only
  EXPECT_EQ(apic.send_fixed(ApicId(1), Vector(14)).error(), base::Error::kInvalidArgument);      // an exception vector
  EXPECT_EQ(apic.send_fixed_all_but_self(Vector(31)).error(), base::Error::kInvalidArgument);
  EXPECT_TRUE(dev.log.empty());
}

TEST(LapicXapic, InitSipiSipiAndBroadcast) {
  FakeXapic dev;
  XLapic apic(FakeXapicRegs{&dev});
  uint8_t vector = sipi_vector(0x8000).value();
  ASSERT_TRUE(apic.send_init(ApicId(2)).ok());
  ASSERT_TRUE(apic.send_startup(ApicId(2), vector).ok());
  ASSERT_TRUE(apic.send_startup(ApicId(2), vector).ok());
  ASSERT_TRUE(apic.send_fixed_all_but_self(Vector(0xf0)).ok());
  EXPECT_EQ(dev.writes(), (std::vector<FakeXapic::Op>{
                              {true, kLapicIcrHigh, 0x0200'0000},
                              {true, kLapicIcrLow, 0x0000'c500},
                              {true, kLapicIcrHigh, 0x0200'0000},
                              {true, kLapicIcrLow, 0x0000'4608},
                              {true, kLapicIcrHigh, 0x0200'0000},
                              {true, kLapicIcrLow, 0x0000'4608},
                              {true, kLapicIcrHigh, 0},
                              {true, kLapicIcrLow, 0x000c'40f0},
                          }));
  EXPECT_EQ(dev.relaxes, 0);
}

TEST(LapicXapic, TimerModesAgainstCountingDownTimer) {
  FakeXapic dev;
  SimTimer timer;
  timer.attach(dev);
  XLapic apic(FakeXapicRegs{&dev});

  apic.start_timer_one_shot(Vector(0x20), TimerDivide::kBy16, 1000);
  EXPECT_EQ(dev.writes(), (std::vector<FakeXapic::Op>{{true, kLapicTimerDivide, 0b0011},
                                                      {true, kLapicLvtTimer, 0x20},
                                                      {true, kLapicTimerInitialCount, 1000}}));
  EXPECT_EQ(apic.timer_current_count(), 1000u);
  timer.now += 8000;
  EXPECT_EQ(apic.timer_current_count(), 500u);
  EXPECT_EQ(timer.fired(), 0u);
  timer.now += 9000;
  EXPECT_EQ(apic.timer_current_count(), 0u);  // one-shot stays at 0
  EXPECT_EQ(timer.fired(), 1u);

  apic.start_timer_periodic(Vector(0x21), TimerDivide::kBy1, 100);
  EXPECT_EQ(dev.get(kLapicLvtTimer), 0x0002'0021u);
  timer.now += 250;
  EXPECT_EQ(apic.timer_current_count(), 50u);
  EXPECT_EQ(timer.fired(), 2u);

  // Calibration use: masked, free-running from 0xffff'ffff, never fires.
  apic.start_timer_free_running(TimerDivide::kBy4);
  uint32_t before = apic.timer_current_count();
  timer.now += 4'000'000;
  EXPECT_EQ(before - apic.timer_current_count(), 1'000'000u);
  EXPECT_EQ(timer.fired(), 0u);

  dev.log.clear();
  apic.stop_timer();
  EXPECT_EQ(dev.writes(),
            (std::vector<FakeXapic::Op>{{true, kLapicTimerInitialCount, 0}, {true, kLapicLvtTimer, kLvtMasked}}));
  EXPECT_EQ(apic.timer_current_count(), 0u);
}

// smp bring-up borrows the timer and puts it back: a one-shot resumes
// what it had left, a periodic timer its period, a fired one stays
// stopped; TSC-deadline mode is not restorable (its deadline is an MSR).
TEST(LapicXapic, TimerSettingIsSavedAndRestored) {
  FakeXapic dev;
  SimTimer timer;
  timer.attach(dev);
  XLapic apic(FakeXapicRegs{&dev});

  apic.start_timer_one_shot(Vector(0x40), TimerDivide::kBy16, 1000);
  timer.now += 16 * 300;
  auto one_shot = apic.timer_setting();
  EXPECT_EQ(one_shot.lvt, 0x40u);
  EXPECT_EQ(one_shot.divide, 0b0011u);
  EXPECT_EQ(one_shot.count, 700u);
  EXPECT_TRUE(timer_restorable(one_shot));
  apic.start_timer_periodic(Vector(0x40), TimerDivide::kBy1, 10);  // borrowed
  timer.now += 1000;
  dev.log.clear();
  apic.restore_timer(one_shot);
  EXPECT_EQ(dev.writes(), (std::vector<FakeXapic::Op>{{true, kLapicTimerDivide, 0b0011},
                                                      {true, kLapicLvtTimer, 0x40},
                                                      {true, kLapicTimerInitialCount, 700}}));
  EXPECT_EQ(apic.timer_current_count(), 700u);
  EXPECT_EQ(timer.fired(), 0u);
  timer.now += 16 * 700;
  EXPECT_EQ(timer.fired(), 1u);

  // A periodic timer keeps its period, not the phase it was in.
  apic.start_timer_periodic(Vector(0x41), TimerDivide::kBy2, 100);
  timer.now += 2 * 30;
  auto periodic = apic.timer_setting();
  EXPECT_EQ(periodic.count, 100u);
  apic.stop_timer();
  apic.restore_timer(periodic);
  EXPECT_EQ(dev.get(kLapicLvtTimer), 0x0002'0041u);
  EXPECT_EQ(apic.timer_current_count(), 100u);

  // A one-shot that fired reads 0 and comes back stopped.
  apic.start_timer_one_shot(Vector(0x40), TimerDivide::kBy1, 5);
  timer.now += 10;
  auto fired = apic.timer_setting();
  EXPECT_EQ(fired.count, 0u);
  apic.restore_timer(fired);
  EXPECT_EQ(apic.timer_current_count(), 0u);

  apic.set_timer_tsc_deadline(Vector(0xef));
  EXPECT_FALSE(timer_restorable(apic.timer_setting()));
}

TEST(LapicXapic, TscDeadlineWritesLvtBeforeDeadline) {
  FakeXapic dev;
  XLapic apic(FakeXapicRegs{&dev});
  apic.set_timer_tsc_deadline(Vector(0xef));
  apic.arm_tsc_deadline(123'456);
  ASSERT_EQ(dev.log.size(), 2u);
  EXPECT_EQ(dev.log[0], (FakeXapic::Op{true, kLapicLvtTimer, 0x0004'00ef}));
  EXPECT_EQ(dev.log[1].offset, 0xffffu);
  EXPECT_EQ(dev.tsc_deadlines, std::vector<uint64_t>{123'456});
}

// The real MMIO provider over a host array standing in for the page.
TEST(LapicXapic, MmioProviderMapsOffsetsToWords) {
  alignas(16) static uint32_t page[1024];
  page[kLapicVersion / 4] = 0x0005'0014;
  Lapic<XapicMmio> apic(XapicMmio{page});
  EXPECT_EQ(apic.version().version, 0x14);
  apic.enable(Vector(0xff));
  EXPECT_EQ(page[0xf0 / 4], 0x1ffu);
  ASSERT_TRUE(apic.send_fixed(ApicId(0x12), Vector(0x50)).ok());  // delivery status reads idle
  EXPECT_EQ(page[0x310 / 4], 0x1200'0000u);
  EXPECT_EQ(page[0x300 / 4], 0x4050u);
}

// --- x2APIC ----------------------------------------------------------------

TEST(LapicX2apic, RegistersAreMsrs) {
  FakeMsrBank bank;
  bank.set(0x802, 0x0001'0203);  // a 32-bit x2APIC id
  bank.set(0x803, 0x0105'0015);
  bank.set(0x828, 0);
  X2Lapic apic(X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  EXPECT_EQ(apic.id(), ApicId(0x0001'0203));
  EXPECT_TRUE(apic.version().eoi_broadcast_suppression);

  bank.clear_log();
  apic.enable(Vector(0xff));
  apic.set_error_vector(Vector(0xfe));
  EXPECT_EQ(apic.read_error_status(), 0u);
  apic.eoi();
  EXPECT_EQ(bank.log(), (std::vector<Access>{{true, 0x80f, 0x1ff},
                                             {true, 0x837, 0xfe},
                                             {true, 0x828, 0},  // only 0 may be written
                                             {false, 0x828, 0},
                                             {true, 0x80b, 0}}));
  EXPECT_TRUE(bank.unknown().empty());
}

TEST(LapicPerfmon, NmiLvtInBothModes) {
  FakeXapic dev;
  XLapic x(FakeXapicRegs{&dev});
  x.set_perfmon_nmi(true);
  x.set_perfmon_nmi(false);
  EXPECT_EQ(dev.writes(), (std::vector<FakeXapic::Op>{{true, 0x340, 0x1'0400}, {true, 0x340, 0x400}}));

  FakeMsrBank bank;
  X2Lapic x2(X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  x2.set_perfmon_nmi(false);
  EXPECT_EQ(bank.writes(), (std::vector<Access>{{true, 0x834, 0x400}}));  // [sdm3] table 10-6
}

TEST(LapicX2apic, IpiIsOneWriteWithoutPolling) {
  FakeMsrBank bank;
  X2Lapic apic(X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  ASSERT_TRUE(apic.send_fixed(ApicId(0x1234), Vector(0x40)).ok());  // ids above 255 are fine here
  ASSERT_TRUE(apic.send_init(ApicId(5)).ok());
  ASSERT_TRUE(apic.send_startup(ApicId(5), 0x08).ok());
  ASSERT_TRUE(apic.send_nmi(ApicId(6)).ok());
  ASSERT_TRUE(apic.send_fixed_all_but_self(Vector(0xf0)).ok());
  EXPECT_EQ(bank.log(), (std::vector<Access>{{true, 0x830, 0x0000'1234'0000'4040},
                                             {true, 0x830, 0x0000'0005'0000'c500},
                                             {true, 0x830, 0x0000'0005'0000'4608},
                                             {true, 0x830, 0x0000'0006'0000'4400},
                                             {true, 0x830, 0x0000'0000'000c'40f0}}));
}

TEST(LapicX2apic, TimerAndTscDeadline) {
  FakeMsrBank bank;
  SimTimer timer;
  timer.attach(bank);
  X2Lapic apic(X2apicMsr<FakeMsr>{FakeMsr{&bank}});

  apic.start_timer_periodic(Vector(0x20), TimerDivide::kBy128, 10);
  EXPECT_EQ(bank.writes(), (std::vector<Access>{{true, 0x83e, 0b1010}, {true, 0x832, 0x0002'0020}, {true, 0x838, 10}}));
  timer.now += 128 * 25;
  EXPECT_EQ(apic.timer_current_count(), 5u);
  EXPECT_EQ(timer.fired(), 2u);

  bank.clear_log();
  apic.set_timer_tsc_deadline(Vector(0xef));
  apic.arm_tsc_deadline(0x1'0000'0000);
  apic.arm_tsc_deadline(0);
  EXPECT_EQ(bank.log(),
            (std::vector<Access>{
                {true, 0x832, 0x0004'00ef}, {true, kIa32TscDeadline, 0x1'0000'0000}, {true, kIa32TscDeadline, 0}}));
  EXPECT_EQ(apic.timer_current_count(), 0u);  // reads 0 in TSC-deadline mode
}

}  // namespace
}  // namespace arch
