// 16550 UART driver logic (polled transmit and receive), templated on the
// port-I/O provider so the line discipline runs in host tests against a fake.
// Register map and bits: PC16550D datasheet ([16550] below).
#pragma once

#include "src/base/atomic.h"
#include "src/base/str.h"
#include "src/base/types.h"

namespace arch {

inline constexpr uint16_t kCom1 = 0x3f8;

template <typename Io>
class Uart16550 {
 public:
  // Register offsets from the base port [16550] table 2.
  static constexpr uint16_t kData = 0, kIntEnable = 1, kFifoCtl = 2, kLineCtl = 3, kModemCtl = 4, kLineStatus = 5;
  static constexpr uint8_t kLsrDataReady = 1 << 0, kLsrOverrun = 1 << 1, kLsrThrEmpty = 1 << 5;
  static constexpr uint8_t kIerReceiveData = 1 << 0;
  static constexpr uint32_t kBaseClock = 115200;  // 1.8432 MHz / 16

  constexpr Uart16550(Io io, uint16_t base) : io_(io), base_(base) {}

  /// 8 data bits, no parity, 1 stop bit, FIFOs on, interrupts off. `baud`
  /// must divide 115200. The receive FIFO is not cleared: bytes typed
  /// before the kernel took over stay for the reader. (Turning the FIFOs
  /// on when they were off still clears them, [16550] FCR bit 0, so the
  /// caller drains the UART first; GRUB's serial driver leaves them on.)
  void init(uint32_t baud) {
    uint16_t divisor = static_cast<uint16_t>(kBaseClock / baud);
    io_.out8(base_ + kIntEnable, 0);
    io_.out8(base_ + kLineCtl, 0x80);  // DLAB: next two writes set the divisor
    io_.out8(base_ + kData, divisor & 0xff);
    io_.out8(base_ + kIntEnable, divisor >> 8);
    io_.out8(base_ + kLineCtl, 0x03);   // 8N1, DLAB off
    io_.out8(base_ + kFifoCtl, 0xc5);   // enable, clear transmit only, 14-byte trigger
    io_.out8(base_ + kModemCtl, 0x03);  // DTR, RTS
  }

  /// Raises the UART's interrupt when a byte arrives: IER bit 0, and OUT2
  /// in the modem control register, which on PC boards gates the UART's
  /// interrupt line onto the bus [16550] 8.6.
  void enable_receive_interrupt() {
    io_.out8(base_ + kModemCtl, 0x0b);  // DTR, RTS, OUT2
    io_.out8(base_ + kIntEnable, kIerReceiveData);
  }

  /// Sets or clears IER bit 0 alone (the "received data available"
  /// interrupt, which also gates the character-timeout one, [16550] IER bit 0):
  /// how the reader pauses the UART while it has no room. Bytes keep
  /// arriving into the FIFO meanwhile; unmasking with data waiting raises
  /// the interrupt again.
  void set_receive_interrupt(bool on) { io_.out8(base_ + kIntEnable, on ? kIerReceiveData : 0); }

  /// Wraps output lines longer than `columns` (0: never), for terminals
  /// that do not wrap themselves.
  void set_wrap(uint32_t columns) { wrap_ = columns; }
  uint32_t wrap() const { return wrap_; }

  /// Writes bytes, turning "\n" into "\r\n" (a serial terminal needs both)
  /// and, when wrapping, breaking lines at the wrap column.
  void write(base::StrView s) {
    for (char c : s) {
      if (c == '\n') {
        put_raw('\r');
        column_ = 0;
      } else if (c == '\r') {
        column_ = 0;
      } else if (c == '\b') {
        if (column_ > 0) --column_;
      } else {
        if (wrap_ != 0 && column_ == wrap_) {
          put_raw('\r');
          put_raw('\n');
          column_ = 0;
        }
        ++column_;
      }
      put_raw(c);
    }
  }

  void put_raw(char c) {
    // Bounded wait: a missing or wedged UART must not hang the kernel (and
    // every spin pauses, which QEMU's icount mode needs to switch vCPUs).
    for (int i = 0; i < 100000 && !(line_status() & kLsrThrEmpty); ++i) io_.relax();
    io_.out8(base_ + kData, static_cast<uint8_t>(c));
  }

  /// Whether a received byte is waiting.
  bool data_ready() { return (line_status() & kLsrDataReady) != 0; }

  /// A received byte, or -1 if none is waiting.
  int try_read() {
    if (!data_ready()) return -1;
    return io_.in8(base_ + kData);
  }

  /// Receiver overruns seen so far: each lost at least one byte (a byte
  /// arrived with the FIFO full, [16550] LSR bit 1). Any context.
  uint64_t overruns() const { return overruns_.load(base::MemoryOrder::kRelaxed); }

 private:
  // Every LSR read goes through here: reading LSR clears its overrun bit,
  // so a transmit-side poll must count it too or the loss goes unseen. A
  // missing UART reads as all ones (an undriven ISA bus): no data then,
  // else the reader would take 0xff bytes forever.
  uint8_t line_status() {
    const uint8_t lsr = io_.in8(base_ + kLineStatus);
    if (lsr == 0xff) return kLsrThrEmpty;
    // Relaxed: a statistic; the transmit (console lock) and receive sides
    // may read LSR on two CPUs at once.
    if (lsr & kLsrOverrun) overruns_.fetch_add(1, base::MemoryOrder::kRelaxed);
    return lsr;
  }

  Io io_;
  uint16_t base_;
  uint32_t wrap_ = 0;
  uint32_t column_ = 0;
  base::Atomic<uint64_t> overruns_{0};
};

}  // namespace arch
