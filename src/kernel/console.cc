// COM1 console behind kprint.
#include "src/kernel/console.h"

#include "src/arch/percpu.h"
#include "src/arch/uart16550.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"

namespace kernel {
namespace {

constinit arch::Uart16550<arch::PortIo> com1(arch::PortIo{}, arch::kCom1);
constinit bool ready = false;

// Owner CPU index + 1 (0 = free) and the owner's nesting depth. Recursive
// so that a CPU faulting while it prints can still report.
constinit base::Atomic<uint32_t> owner{0};
constinit uint32_t depth = 0;

void write_console(void*, const char* bytes, size_t n) {
  if (ready) com1.write(base::StrView(bytes, n));
}

}  // namespace

void console_init() {
  com1.init(115200);
  ready = true;
}

void console_lock() {
  arch::push_cli();
  uint32_t me = arch::this_cpu().index + 1;
  if (owner.load(base::MemoryOrder::kRelaxed) == me) {
    ++depth;
    return;
  }
  uint32_t free = 0;
  // Acquire pairs with the release in console_unlock.
  while (!owner.compare_exchange(free, me, base::MemoryOrder::kAcquire, base::MemoryOrder::kRelaxed)) {
    free = 0;
    arch::cpu_relax();
  }
  depth = 1;
}

void console_unlock() {
  if (--depth == 0) owner.store(0, base::MemoryOrder::kRelease);
  arch::pop_cli();
}

base::Sink console_sink() { return base::Sink{&write_console, nullptr}; }

int console_try_read() { return ready ? com1.try_read() : -1; }

}  // namespace kernel
