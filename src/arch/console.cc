// COM1 console behind kprint.
#include "src/arch/console.h"

#include "src/arch/percpu.h"
#include "src/arch/spinlock.h"
#include "src/arch/uart16550.h"
#include "src/arch/uart_receiver.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"

namespace arch {
namespace {

constinit Uart16550<PortIo> com1(PortIo{}, kCom1);
constinit bool ready = false;
constinit bool rx_interrupts = false;
// Producer: the UART interrupt handler (a poll before it is on); consumer:
// the monitor. rx_lock excludes the producer from the consumer's unmasking.
// Not GUARDED_BY: the ring's consumer side (pop, empty, should_resume) is
// lock-free by design; rx_lock serializes the producer side and resume.
constinit UartReceiver<Uart16550<PortIo>, 1024> rx;
constinit SpinLock rx_lock;

// Owner CPU index + 1 (0 = free) and the owner's nesting depth. Recursive
// so that a CPU faulting while it prints can still report. Not a SpinLock
// for that reason, and because NMI code takes it with a time bound
// (console_lock_nmi); not a capability either: a panic takes it and never
// gives it back, so its holds do not pair within a function.
constinit base::Atomic<uint32_t> owner{0};
constinit uint32_t depth = 0;

void write_console(void*, const char* bytes, size_t n) {
  if (ready) com1.write(base::StrView(bytes, n));
}

void write_console_unwrapped(void*, const char* bytes, size_t n) {
  if (!ready) return;
  const uint32_t columns = com1.wrap();
  com1.set_wrap(0);
  com1.write(base::StrView(bytes, n));
  com1.set_wrap(columns);
}

}  // namespace

void console_set_wrap(uint32_t columns) {
  console_lock();
  com1.set_wrap(columns);
  console_unlock();
}

void console_init() {
  // Bytes typed before the kernel took over go into the ring first: init
  // keeps the receive FIFO, but enabling FIFOs that were off clears it.
  rx_lock.lock();
  rx.drain(com1);
  rx_lock.unlock();
  com1.init(115200);
  ready = true;
}

void console_lock() {
  push_cli();
  uint32_t me = this_cpu().index.value + 1;
  if (owner.load(base::MemoryOrder::kRelaxed) == me) {
    ++depth;
    return;
  }
  uint32_t free = 0;
  // Acquire pairs with the release in console_unlock.
  while (!owner.compare_exchange(free, me, base::MemoryOrder::kAcquire, base::MemoryOrder::kRelaxed)) {
    free = 0;
    cpu_relax();
  }
  depth = 1;
}

void console_unlock() {
  if (--depth == 0) owner.store(0, base::MemoryOrder::kRelease);
  pop_cli();
}

bool console_lock_nmi() {
  // 2^32 TSC cycles: one to four seconds at today's rates, whatever a
  // pause costs (a count of pauses took minutes under a loaded emulator);
  // a print rarely holds the lock for a millisecond. The count of pauses
  // stays as the bound for a TSC that does not tick.
  constexpr uint64_t kPatienceTsc = uint64_t{1} << 32;
  constexpr uint64_t kPatiencePauses = uint64_t{1} << 25;
  uint32_t me = this_cpu().index.value + 1;
  if (owner.load(base::MemoryOrder::kRelaxed) == me) {
    ++depth;
    return false;
  }
  const uint64_t t0 = rdtsc();
  for (uint64_t i = 0; i < kPatiencePauses && rdtsc() - t0 < kPatienceTsc; ++i) {
    uint32_t free = 0;
    if (owner.compare_exchange(free, me, base::MemoryOrder::kAcquire, base::MemoryOrder::kRelaxed)) {
      depth = 1;
      return false;
    }
    cpu_relax();
  }
  owner.store(me, base::MemoryOrder::kRelaxed);
  depth = 1;
  return true;
}

void console_unlock_nmi() {
  if (--depth == 0) owner.store(0, base::MemoryOrder::kRelease);
}

base::Sink console_sink() { return base::Sink{&write_console, nullptr}; }

base::Sink console_sink_unwrapped() { return base::Sink{&write_console_unwrapped, nullptr}; }

// One interrupt may stand for several bytes: drain the FIFO (or as much as
// the ring takes; the receiver masks the interrupt when it is full).
void console_receive() {
  rx_lock.lock();
  rx.drain(com1);
  rx_lock.unlock();
}

namespace {

void resume_receive() {
  rx_lock.lock();
  rx.resume(com1);
  rx_lock.unlock();
}

}  // namespace

int console_try_read() {
  if (!ready) return -1;
  if (!rx_interrupts) {
    rx_lock.lock();
    rx.drain(com1);
    rx_lock.unlock();
  }
  const int c = rx.pop();
  if (rx.should_resume()) resume_receive();
  return c;
}

void console_use_receive_interrupt() {
  rx_lock.lock();
  rx.use_interrupts();
  rx_lock.unlock();
  rx_interrupts = true;
  com1.enable_receive_interrupt();
}

bool console_receive_interrupt_on() { return rx_interrupts; }

bool console_input_pending() {
  if (!rx.empty()) return true;
  // Never sleep with the ring empty and the interrupt masked: the reader's
  // lock-free check can miss a pause the interrupt made on another CPU
  // while this one drained the ring; under the lock the pause is seen, and
  // undone (the caller then reads again rather than sleeps).
  rx_lock.lock();
  const bool was_paused = rx.paused();
  rx.resume(com1);
  rx_lock.unlock();
  return was_paused || !rx.empty();
}

uint64_t console_rx_overruns() { return com1.overruns(); }

}  // namespace arch
