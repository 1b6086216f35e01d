#include "src/arch/uart_receiver.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace {

// A UART as QEMU's serial model behaves: a 16-byte receive FIFO fed from
// the sender's backlog only while it has room (the chardev is not read
// when the FIFO is full), and an interrupt that is pending while IER bit 0
// is set and data is waiting.
struct FakeUart {
  static constexpr size_t kFifo = 16;
  std::deque<char> fifo;
  std::string backlog;  // still with the sender
  bool ier = false;
  int masks = 0, unmasks = 0;

  void deliver() {
    while (fifo.size() < kFifo && !backlog.empty()) {
      fifo.push_back(backlog.front());
      backlog.erase(0, 1);
    }
  }
  bool interrupt_pending() const { return ier && !fifo.empty(); }
  bool data_ready() const { return !fifo.empty(); }
  int try_read() {
    if (fifo.empty()) return -1;
    const unsigned char c = static_cast<unsigned char>(fifo.front());
    fifo.pop_front();
    return c;
  }
  void set_receive_interrupt(bool on) {
    ++(on ? unmasks : masks);
    ier = on;
  }
};

using Receiver = arch::UartReceiver<FakeUart, 64>;

std::string pattern(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

// Runs the interrupt handler for as long as the UART asks for it.
void run_interrupts(Receiver& rx, FakeUart& uart) {
  for (int guard = 0; guard < 10000; ++guard) {
    uart.deliver();
    if (!uart.interrupt_pending()) return;
    rx.drain(uart);
  }
  FAIL() << "the interrupt never stopped";
}

TEST(UartReceiver, PollingKeepsOrderAndLeavesTheRestInTheUart) {
  FakeUart uart;
  Receiver rx;
  uart.fifo.assign({'x', 'y'});
  rx.drain(uart);
  EXPECT_EQ(rx.pop(), 'x');
  EXPECT_EQ(rx.pop(), 'y');
  EXPECT_EQ(rx.pop(), -1);

  uart.backlog = pattern(100);
  for (int i = 0; i < 10; ++i) {
    uart.deliver();
    rx.drain(uart);
  }
  EXPECT_EQ(rx.size(), 64u) << "the ring fills";
  EXPECT_FALSE(rx.paused()) << "polling has nothing to mask";
  EXPECT_EQ(uart.masks, 0);
  EXPECT_EQ(uart.fifo.size() + uart.backlog.size(), 36u) << "the rest waits, none is dropped";
}

TEST(UartReceiver, FullRingMasksAndHalfEmptyUnmasks) {
  FakeUart uart;
  Receiver rx;
  uart.ier = true;
  rx.use_interrupts();
  uart.backlog = pattern(200);
  run_interrupts(rx, uart);
  EXPECT_EQ(rx.size(), 64u);
  EXPECT_TRUE(rx.paused());
  EXPECT_FALSE(uart.ier) << "masked while the ring is full";
  EXPECT_EQ(uart.masks, 1);
  EXPECT_EQ(uart.fifo.size(), FakeUart::kFifo) << "the UART holds what came next";

  // Reading a little does not unmask: only half the ring does.
  for (int i = 0; i < 31; ++i) ASSERT_GE(rx.pop(), 0);
  EXPECT_FALSE(rx.should_resume());
  rx.resume(uart);
  EXPECT_FALSE(uart.ier);
  ASSERT_GE(rx.pop(), 0);
  EXPECT_EQ(rx.size(), Receiver::kResumeAt);
  EXPECT_TRUE(rx.should_resume());
  rx.resume(uart);
  EXPECT_TRUE(uart.ier);
  EXPECT_FALSE(rx.paused());
  EXPECT_EQ(uart.unmasks, 1);
  EXPECT_TRUE(uart.interrupt_pending()) << "the waiting bytes raise the interrupt again";
}

// A paste far larger than the ring, read slowly: every byte arrives, in
// order, through repeated pauses.
TEST(UartReceiver, LongPasteArrivesWholeThroughPauses) {
  FakeUart uart;
  Receiver rx;
  uart.ier = true;
  rx.use_interrupts();
  const std::string paste = pattern(5000);
  uart.backlog = paste;
  std::string got;
  for (int step = 0; step < 100000 && got.size() < paste.size(); ++step) {
    run_interrupts(rx, uart);
    // The reader takes up to 7 bytes per turn, then resumes if it may,
    // and before it would sleep on an empty ring.
    for (int i = 0; i < 7; ++i) {
      const int c = rx.pop();
      if (c < 0) break;
      got.push_back(static_cast<char>(c));
    }
    if (rx.should_resume() || rx.empty()) rx.resume(uart);
  }
  EXPECT_EQ(got, paste);
  EXPECT_GT(uart.masks, 10);
  EXPECT_EQ(uart.masks, uart.unmasks);
}

TEST(UartReceiver, ResumeIsANoOpWhenNotPaused) {
  FakeUart uart;
  Receiver rx;
  rx.use_interrupts();
  rx.resume(uart);
  EXPECT_EQ(uart.unmasks, 0);
  EXPECT_FALSE(rx.should_resume());
}

// A full ring with nothing more waiting needs no mask: the next byte's
// interrupt will find the ring as the reader left it.
TEST(UartReceiver, FullRingWithNothingWaitingStaysUnmasked) {
  FakeUart uart;
  Receiver rx;
  uart.ier = true;
  rx.use_interrupts();
  uart.backlog = pattern(64);
  run_interrupts(rx, uart);
  EXPECT_EQ(rx.size(), 64u);
  EXPECT_FALSE(rx.paused());
  EXPECT_TRUE(uart.ier);
}

}  // namespace
