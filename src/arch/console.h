// The kernel console: COM1 at 115200 8N1, in arch because it needs only the
// UART and the per-CPU block, so every module can print. `kprint` formats
// with base::format ("{}" placeholders). One kprint call is atomic with
// respect to other CPUs, so lines never interleave; a CPU may re-enter (an
// exception report while it was printing). Thread and interrupt context;
// NMI context only for the final reports of a dying kernel.
#pragma once

#include "src/base/format.h"

namespace arch {

/// Programs the UART; before this, output goes nowhere.
void console_init();

/// The console as a format sink (for code that formats in pieces).
base::Sink console_sink();

/// The console as a sink that never wraps, for output a program parses
/// (a profile dump's lines). The caller holds the console.
base::Sink console_sink_unwrapped();

/// Wraps console lines at `columns` (0: off); the `console.wrap=N` argument.
void console_set_wrap(uint32_t columns);

/// Holds the console for this CPU (recursively), interrupts off.
void console_lock();
void console_unlock();

/// The console for NMI context and for a kernel stopping every CPU, where
/// the holder may never let go (it is stopped, or it is this CPU, halfway
/// through a line): re-enters like console_lock(), else waits a bounded
/// time (about a second) for another CPU's print and then takes the lock
/// from it, whose output may then be cut off. Does not touch the interrupt
/// flag (off in both contexts). True when the lock was taken by force.
bool console_lock_nmi();
void console_unlock_nmi();

/// kprint for NMI context (console_lock_nmi around the format).
template <typename... Args>
void kprint_nmi(base::StrView fmt, const Args&... args) {
  console_lock_nmi();
  base::format(console_sink(), fmt, args...);
  console_unlock_nmi();
}

template <typename... Args>
void kprint(base::StrView fmt, const Args&... args) {
  console_lock();
  base::format(console_sink(), fmt, args...);
  console_unlock();
}

/// A byte typed on the console, or -1 if none is waiting: from the receive
/// ring, which the UART's interrupt fills once it is on (before, this
/// polls the UART into it). One reader at a time (the ring has one
/// consumer): the monitor's thread. Input is never dropped for want of
/// room: while the ring is full the UART's receive interrupt is masked and
/// the bytes wait in the UART and the sender, until this has taken the ring
/// down to half.
int console_try_read();

/// Switches input to the UART's receive interrupt, whose handler (installed
/// by the owner of the input, monitor/console_input.cc, which routes the
/// IRQ) calls console_receive: bytes go into a lock-free ring from then on.
void console_use_receive_interrupt();

/// Whether console_use_receive_interrupt was called (else input is polled
/// by console_try_read).
bool console_receive_interrupt_on();

/// The receive interrupt's work: drains the UART's FIFO into the ring, or
/// as much as fits (the UART's interrupt is masked while the ring is full).
/// Interrupt context.
void console_receive();

/// For a reader about to sleep until input (interrupts off): true when the
/// ring holds a byte, or when receiving was paused with the ring full and
/// is now resumed, so that the reader reads again instead of sleeping with
/// the interrupt masked. Any context but NMI.
bool console_input_pending();

/// Input the UART lost: overruns (a byte arrived with its FIFO full, on
/// real hardware when interrupts are off too long), each losing one byte or
/// more. The only loss left (see console_try_read); the prompt reports it.
uint64_t console_rx_overruns();

}  // namespace arch
