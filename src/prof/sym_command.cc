// `sym ADDR`: the function containing a kernel address, as backtraces
// print it (kernel_symbols.h).
#include "src/arch/console.h"
#include "src/monitor/command.h"
#include "src/prof/hex_address.h"
#include "src/prof/kernel_symbols.h"

namespace prof {
namespace {

MONITOR_COMMAND(sym, "ADDR", "the function containing hex address ADDR, as function+0xoff") {
  uint64_t pc = 0;
  if (!parse_hex_address(args, &pc)) {
    arch::kprint("sym: expected one hex address (up to 16 digits, 0x optional), not '{}'\n", args);
    return false;
  }
  SymbolRef s;
  if (!symbolize(pc, &s)) {
    arch::kprint("{:#018x}: no symbol\n", pc);
    return true;
  }
  char name[kSymbolTextBytes];
  arch::kprint("{:#018x}: {}+{:#x} (function at {:#x}, {} bytes)\n", pc, readable_name(s, name, sizeof name), s.offset,
               s.start, s.size);
  return true;
}

}  // namespace
}  // namespace prof
