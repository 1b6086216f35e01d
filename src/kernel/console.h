// The kernel console: COM1 at 115200 8N1. `kprint` formats with base::format
// ("{}" placeholders). Single-CPU for now: callable from thread and interrupt
// context; from NMI context only when the interrupted code was not printing.
#pragma once

#include "src/base/format.h"

namespace kernel {

/// Programs the UART; before this, output goes nowhere.
void console_init();

/// The console as a format sink (for code that formats in pieces).
base::Sink console_sink();

template <typename... Args>
void kprint(base::StrView fmt, const Args&... args) {
  base::format(console_sink(), fmt, args...);
}

/// A byte typed on the console, or -1 if none is waiting (polled).
int console_try_read();

}  // namespace kernel
