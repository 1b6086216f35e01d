// Cross-CPU hand-offs for the Go side of tools/peers. With GOMAXPROCS=2 and
// nothing pinned, Go's runtime keeps a channel ping-pong's two goroutines
// on one P (the woken goroutine goes to the waker's runnext), so that
// figure is a same-CPU hand-off. Here each side is a goroutine locked to an
// OS thread pinned to its own CPU, as the C benchmark's futex partner and
// biscotti's are, and each checks that it really ran there.
//
// golang.org/x/sys is not available offline, so the affinity and getcpu
// calls are raw system calls from the standard library's syscall package.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// getcpu(2) is syscall 309 on x86-64 (arch/x86/entry/syscalls/
// syscall_64.tbl); Go 1.19's syscall package does not name it.
const sysGetcpu = 309

// Linux's futex(2) operations (include/uapi/linux/futex.h): FUTEX_WAIT and
// FUTEX_WAKE with FUTEX_PRIVATE_FLAG (128), as the C benchmark uses.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

func fail(format string, args ...any) {
	fmt.Printf("peer go error: "+format+"\n", args...)
	os.Exit(1)
}

// currentCPU is the CPU the calling thread runs on (getcpu(2)). A raw call:
// it neither blocks nor lets the runtime move the goroutine meanwhile.
func currentCPU() int {
	var cpu uint32
	if _, _, errno := syscall.RawSyscall(sysGetcpu, uintptr(unsafe.Pointer(&cpu)), 0, 0); errno != 0 {
		fail("getcpu: %v", errno)
	}
	return int(cpu)
}

// pinThread pins the calling OS thread (tid 0: the caller) to cpu alone.
// Linux moves a running thread off a CPU its new mask excludes before
// sched_setaffinity returns, so currentCPU is cpu right after.
func pinThread(cpu int) {
	var mask [1024 / 64]uint64 // a cpu_set_t: CPU_SETSIZE bits
	if cpu < 0 || cpu >= len(mask)*64 {
		fail("pinThread: CPU %d out of range", cpu)
	}
	mask[cpu/64] = 1 << (cpu % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask),
		uintptr(unsafe.Pointer(&mask)))
	if errno != 0 {
		fail("sched_setaffinity to CPU %d: %v", cpu, errno)
	}
}

// onCPU runs body on the calling goroutine locked to its OS thread, pinned
// to cpu, and fails loudly unless the thread is on cpu both before and
// after. It never unlocks: the thread exits with the goroutine, so no
// pinned thread goes back to the runtime's pool. (A thread that calls
// LockOSThread has new Ms started by the runtime's template thread, so
// they do not inherit the pin.)
func onCPU(cpu int, role string, pinned *sync.WaitGroup, body func()) {
	runtime.LockOSThread()
	pinThread(cpu)
	if got := currentCPU(); got != cpu {
		fail("%s pinned to CPU %d runs on CPU %d", role, cpu, got)
	}
	pinned.Done()
	pinned.Wait() // both sides are in place before the clock starts
	body()
	if got := currentCPU(); got != cpu {
		fail("%s pinned to CPU %d ended on CPU %d", role, cpu, got)
	}
}

// pinnedPair runs pinger (which times n round trips and returns the
// cycles) on CPU 0 and partner on CPU 1, and returns when both are done.
func pinnedPair(pinger func() uint64, partner func()) uint64 {
	var pinned, done sync.WaitGroup
	var cycles uint64
	pinned.Add(2)
	done.Add(2)
	go func() {
		defer done.Done()
		onCPU(1, "the partner", &pinned, partner)
	}()
	go func() {
		defer done.Done()
		onCPU(0, "the pinger", &pinned, func() { cycles = pinger() })
	}()
	done.Wait()
	return cycles
}

// The unbuffered-channel ping-pong of chanPingPong, across CPUs 0 and 1.
func pinnedChanPingPong(n uint64) uint64 {
	ping, pong := make(chan struct{}), make(chan struct{})
	return pinnedPair(func() uint64 { return chanPinger(ping, pong, n) }, func() { chanPonger(ping, pong) })
}

// The C benchmark's futex protocol (linux_bench.c) from Go across CPUs 0
// and 1: 1 the partner's turn, 0 ours, 2 stop. syscall.Syscall6, as Go
// code makes a blocking call: the runtime may hand the P on meanwhile.
func pinnedFutexPingPong(n uint64) uint64 {
	var word atomic.Uint32
	wait := func(expected uint32) {
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), futexWaitPrivate, uintptr(expected), 0, 0, 0)
	}
	wake := func() {
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), futexWakePrivate, 1, 0, 0, 0)
	}
	return pinnedPair(func() uint64 {
		t0 := rdtsc()
		for i := uint64(0); i < n; i++ {
			word.Store(1)
			wake()
			for word.Load() == 1 {
				wait(1)
			}
		}
		cycles := rdtsc() - t0
		word.Store(2)
		wake()
		return cycles
	}, func() {
		for {
			switch word.Load() {
			case 2:
				return
			case 0:
				wait(0)
			default:
				word.Store(0)
				wake()
			}
		}
	})
}

// unpinnedCrossings runs chanPingPong's protocol unpinned, untimed, and
// counts the round trips in which the partner received on another CPU than
// the one the pinger sent from: near 0 says the runtime kept the pair on
// one CPU, so the unpinned figure is no cross-CPU hand-off.
func unpinnedCrossings(n int) int {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for range ping {
			pong <- currentCPU()
		}
	}()
	crossings := 0
	for i := 0; i < n; i++ {
		from := currentCPU()
		ping <- 0
		if <-pong != from {
			crossings++
		}
	}
	close(ping)
	return crossings
}
