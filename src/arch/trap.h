// Interrupt and exception dispatch: the IDT for all 256 vectors, each
// pointing at a stub in trap_entry.S, and a table of C++ handlers.
// Handlers run in interrupt context with interrupts off.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/arch/trap_frame.h"
#include "src/arch/vectors.h"
#include "src/base/types.h"

namespace arch {

/// Exception vectors [sdm3] 6.3.1 table 6-1.
inline constexpr Vector kVectorDivide{0};
inline constexpr Vector kVectorDebug{1};
inline constexpr Vector kVectorNmi{2};
inline constexpr Vector kVectorBreakpoint{3};
inline constexpr Vector kVectorOverflow{4};
inline constexpr Vector kVectorBound{5};
inline constexpr Vector kVectorInvalidOpcode{6};
inline constexpr Vector kVectorNoFpu{7};
inline constexpr Vector kVectorDoubleFault{8};
inline constexpr Vector kVectorInvalidTss{10};
inline constexpr Vector kVectorSegmentNotPresent{11};
inline constexpr Vector kVectorStackFault{12};
inline constexpr Vector kVectorGeneralProtection{13};
inline constexpr Vector kVectorPageFault{14};
inline constexpr Vector kVectorFpuError{16};
inline constexpr Vector kVectorAlignmentCheck{17};
inline constexpr Vector kVectorMachineCheck{18};
inline constexpr Vector kVectorSimd{19};
inline constexpr Vector kVectorVirtualization{20};
inline constexpr Vector kVectorControlProtection{21};
inline constexpr Vector kVectorFirstIrq{32};

/// The vector a trap frame was pushed for (the stubs push it as a word).
inline Vector frame_vector(const TrapFrame& f) { return Vector(static_cast<uint8_t>(f.vector)); }

/// The name of an exception vector ("page fault"), or "interrupt".
const char* vector_name(Vector vector);

using TrapHandler = void (*)(TrapFrame& frame);

/// Installs `fn` for `vector`, replacing any previous handler.
void set_trap_handler(Vector vector, TrapHandler fn);

/// The handler installed for `vector`, or nullptr: for a test that wraps
/// it for a while and puts it back.
TrapHandler trap_handler(Vector vector);

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
void tss_install(CpuIndex index, Tss* tss);

}  // namespace arch

extern "C" void trap_dispatch(arch::TrapFrame* frame);

/// The instruction after trap_entry.S's `call trap_dispatch`: the return
/// address that marks, in a frame-pointer chain, the trap frame lying
/// right above trap_dispatch's frame (prof/unwind.h).
extern "C" char trap_common_return[];
