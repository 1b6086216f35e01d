// rdtsc for the Go side of tools/peers: Go has no intrinsic for it, and
// under QEMU's -icount the TSC counts guest instructions ([sdm2] RDTSC:
// EDX:EAX = the time-stamp counter).
#include "textflag.h"

// func rdtsc() uint64
TEXT ·rdtsc(SB), NOSPLIT, $0-8
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, ret+0(FP)
	RET
