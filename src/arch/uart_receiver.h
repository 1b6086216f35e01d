// The console's receive side: bytes from a UART into a ring for one reader,
// with flow control instead of loss. When the ring is full the UART is left
// holding the rest (its receive interrupt masked), and unmasked once the
// reader has emptied half the ring. Templated on the UART (Uart16550 or a
// host test's fake) so the policy is tested without hardware.
#pragma once

#include "src/base/atomic.h"
#include "src/base/spsc_ring.h"
#include "src/base/types.h"

namespace arch {

template <typename Uart, size_t kCapacity>
class UartReceiver {
 public:
  /// Unmask again once the reader has taken the ring down to this many: a
  /// paste of many kilobytes then costs one mask and unmask per half ring,
  /// not one per byte.
  static constexpr size_t kResumeAt = kCapacity / 2;

  constexpr UartReceiver() = default;

  /// Producer: the receive interrupt (or a poll before interrupts are on),
  /// with resume() excluded (the caller's lock). Moves every waiting byte
  /// into the ring. When the ring fills with bytes still waiting and the
  /// interrupt is in use, masks it: the bytes wait in the UART's FIFO and,
  /// behind it, in the sender (QEMU's serial model stops reading its
  /// chardev while the FIFO is full; a terminal's own buffer or the
  /// UART's overrun, counted by the UART, on real hardware).
  void drain(Uart& uart) {
    for (;;) {
      if (ring_.size() == kCapacity) {
        if (interrupts_ && uart.data_ready()) {
          uart.set_receive_interrupt(false);
          // Release: a reader that sees the pause also sees the full ring.
          paused_.store(true, base::MemoryOrder::kRelease);
        }
        return;
      }
      const int c = uart.try_read();
      if (c < 0) return;
      (void)ring_.push(static_cast<char>(c));  // room checked above; one producer
    }
  }

  /// From now on drain() runs from the UART's receive interrupt (the caller
  /// has just enabled it), so a full ring masks it. Same exclusion as drain().
  void use_interrupts() { interrupts_ = true; }

  /// Consumer: the oldest byte, or -1 when none.
  int pop() {
    char c;
    return ring_.pop(&c) ? static_cast<unsigned char>(c) : -1;
  }

  /// Consumer, lock-free: whether resume() would unmask now. A stale false
  /// is possible while drain() is pausing on another CPU; the reader calls
  /// resume() under the lock before it sleeps on an empty ring.
  bool should_resume() const { return paused() && ring_.size() <= kResumeAt; }

  /// With drain() excluded: unmasks the receive interrupt if paused and the
  /// reader has made room. Bytes that arrived meanwhile raise the interrupt
  /// again at once: the UART still has data ready, and on QEMU the
  /// character-timeout indication stays pending until the data is read
  /// (hw/char/serial.c, timeout_ipending), so no wake-up is lost.
  void resume(Uart& uart) {
    if (!paused() || ring_.size() > kResumeAt) return;
    paused_.store(false, base::MemoryOrder::kRelaxed);
    uart.set_receive_interrupt(true);
  }

  /// Whether the receive interrupt is masked for want of room.
  bool paused() const { return paused_.load(base::MemoryOrder::kAcquire); }

  bool empty() const { return ring_.empty(); }
  size_t size() const { return ring_.size(); }

 private:
  base::SpscRing<char, kCapacity> ring_;
  bool interrupts_ = false;  // written once, before the interrupt can run
  base::Atomic<bool> paused_{false};
};

}  // namespace arch
