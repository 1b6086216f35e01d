#include "src/arch/uart16550.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

// A fake UART: records register writes, transmits when THR is written,
// and serves queued receive bytes.
struct FakeUart {
  std::vector<std::pair<uint16_t, uint8_t>> writes;
  std::string sent;
  std::string rx;
  int busy_polls = 0;  // LSR reads that report "transmitter busy" first
  int relaxes = 0;
  bool dlab = false;
  int overruns = 0;     // LSR reads that report an overrun (then clear it)
  bool absent = false;  // no UART: every read is 0xff
};

struct FakeIo {
  FakeUart* u;
  void out8(uint16_t port, uint8_t v) const {
    u->writes.push_back({port, v});
    if (port == 0x3f8 + 3) u->dlab = v & 0x80;
    if (port == 0x3f8 && !u->dlab) u->sent.push_back(static_cast<char>(v));
  }
  uint8_t in8(uint16_t port) const {
    if (u->absent) return 0xff;
    if (port == 0x3f8 + 5) {
      uint8_t lsr = u->rx.empty() ? 0 : 1;
      if (u->overruns > 0) {
        --u->overruns;
        lsr |= 0x02;
      }
      if (u->busy_polls > 0) {
        --u->busy_polls;
        return lsr;
      }
      return lsr | 0x20;
    }
    if (port == 0x3f8) {
      char c = u->rx.front();
      u->rx.erase(0, 1);
      return static_cast<uint8_t>(c);
    }
    return 0;
  }
  void relax() const { ++u->relaxes; }
};

TEST(Uart16550, InitProgramsDivisorAnd8N1) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  uart.init(115200);
  std::vector<std::pair<uint16_t, uint8_t>> want = {{0x3f9, 0x00}, {0x3fb, 0x80}, {0x3f8, 0x01}, {0x3f9, 0x00},
                                                    {0x3fb, 0x03}, {0x3fa, 0xc5}, {0x3fc, 0x03}};
  EXPECT_EQ(u.writes, want);
  u.writes.clear();
  uart.init(9600);
  EXPECT_EQ(u.writes[2], (std::pair<uint16_t, uint8_t>{0x3f8, 12}));
  EXPECT_TRUE(u.sent.empty()) << "divisor writes are not data";
  EXPECT_EQ(u.writes[5].second & 0x02, 0) << "FCR bit 1 would clear bytes that already arrived";
}

TEST(Uart16550, ReceiveInterruptNeedsIerAndOut2) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  uart.enable_receive_interrupt();
  std::vector<std::pair<uint16_t, uint8_t>> want = {{0x3fc, 0x0b}, {0x3f9, 0x01}};
  EXPECT_EQ(u.writes, want);
}

TEST(Uart16550, ReceiveInterruptMaskTouchesOnlyIerBit0) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  uart.set_receive_interrupt(false);
  uart.set_receive_interrupt(true);
  std::vector<std::pair<uint16_t, uint8_t>> want = {{0x3f9, 0x00}, {0x3f9, 0x01}};
  EXPECT_EQ(u.writes, want);
}

TEST(Uart16550, NewlineBecomesCrLfAndWaitsForTransmitter) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  u.busy_polls = 3;
  uart.write("a\nb");
  EXPECT_EQ(u.sent, "a\r\nb");
  EXPECT_EQ(u.relaxes, 3);
}

TEST(Uart16550, OptionalWrapAtColumn) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  uart.write("aaaaaaaaaaaa");
  EXPECT_EQ(u.sent, std::string(12, 'a')) << "no wrap by default";
  u.sent.clear();
  uart.write("\n");
  u.sent.clear();
  uart.set_wrap(5);
  uart.write("abcdefghij\nxyz\b\bw12345");
  EXPECT_EQ(u.sent, "abcde\r\nfghij\r\nxyz\b\bw123\r\n45");
}

TEST(Uart16550, WedgedTransmitterDoesNotHang) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  u.busy_polls = 1 << 30;
  uart.write("x");
  EXPECT_EQ(u.sent, "x");
  EXPECT_EQ(u.relaxes, 100000);
}

TEST(Uart16550, ReadsOnlyWhenDataReady) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  EXPECT_EQ(uart.try_read(), -1);
  u.rx = "ok";
  EXPECT_EQ(uart.try_read(), 'o');
  EXPECT_EQ(uart.try_read(), 'k');
  EXPECT_EQ(uart.try_read(), -1);
}

// Reading LSR clears its overrun bit, so an overrun seen by either side's
// poll (transmit or receive) must be counted.
TEST(Uart16550, CountsOverrunsSeenByAnyStatusRead) {
  FakeUart u;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  EXPECT_EQ(uart.overruns(), 0u);
  u.overruns = 1;
  uart.write("a");
  EXPECT_EQ(uart.overruns(), 1u);
  u.overruns = 2;
  u.rx = "b";
  EXPECT_EQ(uart.try_read(), 'b');
  EXPECT_EQ(uart.try_read(), -1);
  EXPECT_EQ(uart.overruns(), 3u);
}

TEST(Uart16550, MissingUartHasNoInputAndNoOverruns) {
  FakeUart u;
  u.absent = true;
  arch::Uart16550<FakeIo> uart(FakeIo{&u}, arch::kCom1);
  EXPECT_FALSE(uart.data_ready());
  EXPECT_EQ(uart.try_read(), -1);
  EXPECT_EQ(uart.overruns(), 0u);
}

}  // namespace
