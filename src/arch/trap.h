// Interrupt and exception dispatch: the IDT for all 256 vectors, each
// pointing at a stub in trap_entry.S, and a table of C++ handlers.
// Handlers run in interrupt context with interrupts off.
#pragma once

#include "src/arch/trap_frame.h"
#include "src/base/types.h"

namespace arch {

/// Exception vectors [sdm3] 6.3.1 table 6-1.
enum : uint8_t {
  kVectorDivide = 0,
  kVectorDebug = 1,
  kVectorNmi = 2,
  kVectorBreakpoint = 3,
  kVectorOverflow = 4,
  kVectorBound = 5,
  kVectorInvalidOpcode = 6,
  kVectorNoFpu = 7,
  kVectorDoubleFault = 8,
  kVectorInvalidTss = 10,
  kVectorSegmentNotPresent = 11,
  kVectorStackFault = 12,
  kVectorGeneralProtection = 13,
  kVectorPageFault = 14,
  kVectorFpuError = 16,
  kVectorAlignmentCheck = 17,
  kVectorMachineCheck = 18,
  kVectorSimd = 19,
  kVectorVirtualization = 20,
  kVectorControlProtection = 21,
  kVectorFirstIrq = 32,
};

/// The name of an exception vector ("page fault"), or "interrupt".
const char* vector_name(uint64_t vector);

using TrapHandler = void (*)(TrapFrame& frame);

/// Installs `fn` for `vector`, replacing any previous handler.
void set_trap_handler(uint8_t vector, TrapHandler fn);

/// The handler installed for `vector`, or nullptr: for a test that wraps
/// it for a while and puts it back.
TrapHandler trap_handler(uint8_t vector);

/// Called for any vector with no handler: a vector nobody expected is a bug
/// to report, never to ignore.
void set_unhandled_trap_handler(TrapHandler fn);

/// Hands `frame` to the unhandled-trap handler: for a handler that finds
/// the trap is not one it can resolve (a fault outside any probe). Halts
/// if none is installed yet.
void report_unhandled_trap(TrapFrame& frame);

/// Fills the IDT (every vector) and loads it on this CPU.
void idt_init();

/// Loads the (already filled) IDT on this CPU: application processors.
void idt_load();

/// Builds the GDT and loads it (and reloads the segment registers) on this CPU.
void gdt_init();

struct Tss;
/// Writes CPU `index`'s TSS descriptor into the shared GDT and loads it
/// into this CPU's task register (LTR).
void tss_install(uint32_t index, Tss* tss);

}  // namespace arch

extern "C" void trap_dispatch(arch::TrapFrame* frame);

/// The instruction after trap_entry.S's `call trap_dispatch`: the return
/// address that marks, in a frame-pointer chain, the trap frame lying
/// right above trap_dispatch's frame (prof/unwind.h).
extern "C" char trap_common_return[];
