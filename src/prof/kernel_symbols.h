// The running kernel's symbol table (symbols.h over the .symtab/.strtab GRUB
// loaded beside the image), built once at boot, and what panics, backtraces
// and the monitor call to name a pc: `function+0xoff`.
//
// Contexts: symbols_init in thread context at boot, once, after the heap.
// symbolize*/format_symbol from any context, NMI included: no lock, no
// allocation; before symbols_init (or when it found no table) they find
// nothing.
#pragma once

#include "src/arch/multiboot2.h"
#include "src/base/str.h"
#include "src/base/types.h"
#include "src/prof/symbols.h"

namespace prof {

/// Reads the symbol and string tables through the direct map, builds the
/// table on the heap (once; it is never freed) and prints
/// "prof: symbols: N functions", or "prof: symbols: none: WHY" when the
/// sections are absent or malformed; the kernel boots either way.
void symbols_init(const arch::mb2::ElfSections& elf);

/// The function containing `pc`; false if none.
bool symbolize(uint64_t pc, SymbolRef* out);

/// The function a backtrace's return address `ret_pc` returns into (looked
/// up at ret_pc - 1; the offset is ret_pc's). False if none.
bool symbolize_return_address(uint64_t ret_pc, SymbolRef* out);

/// Whether pc is a return address (a backtrace frame) or the address of an
/// instruction itself (a faulting rip, a sample, `sym ADDR`).
enum class PcKind { kInstruction, kReturnAddress };

/// The name to show for `s`: demangled into `buf` when the demangler reads
/// it (demangle.h), else the symbol's own. Any context.
base::StrView readable_name(const SymbolRef& s, char* buf, size_t cap);

/// Room for a mangled name and its offset; longer names are cut.
inline constexpr size_t kSymbolTextBytes = 160;

/// Writes "name+0xoff" for `pc` (the name demangled where it can be) into `buf` (NUL-terminated, cut to fit),
/// or "?" when no symbol covers it, and returns the text.
base::StrView format_symbol(uint64_t pc, PcKind kind, char* buf, size_t cap);

}  // namespace prof
