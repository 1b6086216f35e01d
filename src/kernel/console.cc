// COM1 console behind kprint.
#include "src/kernel/console.h"

#include "src/arch/uart16550.h"
#include "src/arch/x86.h"

namespace kernel {
namespace {

constinit arch::Uart16550<arch::PortIo> com1(arch::PortIo{}, arch::kCom1);
constinit bool ready = false;

void write_console(void*, const char* bytes, size_t n) {
  if (ready) com1.write(base::StrView(bytes, n));
}

}  // namespace

void console_init() {
  com1.init(115200);
  ready = true;
}

base::Sink console_sink() { return base::Sink{&write_console, nullptr}; }

int console_try_read() { return ready ? com1.try_read() : -1; }

}  // namespace kernel
