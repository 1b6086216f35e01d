// Readable names for the kernel's own symbols in backtraces and `prof top`:
// the common case of the Itanium C++ ABI's mangling ([itanium-abi] 5.1),
// a function's nested name without its parameter types, e.g.
//   _ZN5sched12_GLOBAL__N_19idle_loopERNS_8CpuSchedE
//     -> sched::(anonymous namespace)::idle_loop
// Names it does not fully understand (templates, substitutions, operators,
// local entities, special names) are left mangled: a partial guess would
// mislead, and the host tool demangles everything with llvm-symbolizer.
//
// Pure and allocation-free: any context, NMI included.
#pragma once

#include "src/base/str.h"
#include "src/base/types.h"

namespace prof {

/// Writes the demangled name of `mangled` into `out` (NUL-terminated) and
/// returns its length; 0 when `mangled` is not a mangled name this
/// demangler reads, or the result does not fit `cap` (`out` may then hold a
/// partial name: ignore it).
size_t demangle_function_name(base::StrView mangled, char* out, size_t cap);

}  // namespace prof
