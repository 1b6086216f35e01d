// The Go side of tools/peers: the primitives of biscotti's bench=sched with
// their Go equivalents (runtime.Gosched, an unbuffered channel, a goroutine
// and a sync.WaitGroup, sync.Mutex), each printed as
// `peer go.NAME cycles=MEDIAN` (per operation, one decimal). /init runs it
// twice: `1cpu` pinned to CPU 0 with GOMAXPROCS=1, and `2cpus` with
// GOMAXPROCS=2, where the ping-pong runs three ways: unpinned (Go places
// the goroutines itself), and across CPUs 0 and 1 over a channel and over
// a futex with each side locked to a pinned thread (pinned.go). A fact
// worth a line but no figure is printed as `peer go info: ...`.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// rdtsc reads the time-stamp counter (rdtsc_amd64.s).
func rdtsc() uint64

// One warm-up run, then seven samples and their median, as biscotti's
// bench runner does.
const samples = 7

func runBench(name string, iterations uint64, fn func(n uint64) uint64) {
	perOp := make([]float64, 0, samples)
	for s := -1; s < samples; s++ {
		cycles := fn(iterations)
		if s >= 0 {
			perOp = append(perOp, float64(cycles)/float64(iterations))
		}
	}
	sort.Float64s(perOp)
	fmt.Printf("peer go.%s cycles=%.1f\n", name, perOp[samples/2])
}

// A round trip: our Gosched runs the partner, whose Gosched runs us.
func yieldRoundTrip(n uint64) uint64 {
	var stop sync.WaitGroup
	var done atomic.Bool
	stop.Add(1)
	go func() {
		defer stop.Done()
		for !done.Load() {
			runtime.Gosched()
		}
	}()
	runtime.Gosched() // let it start
	t0 := rdtsc()
	for i := uint64(0); i < n; i++ {
		runtime.Gosched()
	}
	cycles := rdtsc() - t0
	done.Store(true)
	stop.Wait()
	return cycles
}

// Ping-pong over unbuffered channels: one round trip per operation, as
// biscotti's futex ping-pong.
func chanPingPong(n uint64) uint64 {
	ping, pong := make(chan struct{}), make(chan struct{})
	go chanPonger(ping, pong)
	return chanPinger(ping, pong, n)
}

// The timed side of a channel ping-pong: n round trips, then closes ping.
func chanPinger(ping, pong chan struct{}, n uint64) uint64 {
	t0 := rdtsc()
	for i := uint64(0); i < n; i++ {
		ping <- struct{}{}
		<-pong
	}
	cycles := rdtsc() - t0
	close(ping)
	return cycles
}

// The answering side: one pong per ping until ping closes.
func chanPonger(ping, pong chan struct{}) {
	for range ping {
		pong <- struct{}{}
	}
}

func spawnJoin(n uint64) uint64 {
	var wg sync.WaitGroup
	t0 := rdtsc()
	for i := uint64(0); i < n; i++ {
		wg.Add(1)
		go wg.Done()
		wg.Wait()
	}
	return rdtsc() - t0
}

var mutex sync.Mutex

func mutexPair(n uint64) uint64 {
	t0 := rdtsc()
	for i := uint64(0); i < n; i++ {
		mutex.Lock()
		mutex.Unlock()
	}
	return rdtsc() - t0
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "1cpu" && os.Args[1] != "2cpus") {
		fmt.Fprintf(os.Stderr, "usage: gobench 1cpu|2cpus\n")
		os.Exit(2)
	}
	if os.Args[1] == "1cpu" {
		runtime.GOMAXPROCS(1)
		runBench("yield_round_trip", 2000, yieldRoundTrip)
		runBench("futex_ping_pong_1_cpu", 1000, chanPingPong)
		runBench("spawn_join", 1000, spawnJoin)
		runBench("mutex_pair", 100000, mutexPair)
		return
	}
	if runtime.NumCPU() < 2 {
		for _, name := range []string{"futex_ping_pong_2_cpus", "futex_ping_pong_2_cpus_pinned",
			"futex_ping_pong_2_cpus_pinned_futex"} {
			fmt.Printf("peer go.%s skipped: needs two CPUs\n", name)
		}
		return
	}
	runtime.GOMAXPROCS(2)
	runBench("futex_ping_pong_2_cpus", 1000, chanPingPong)
	const rounds = 1000
	fmt.Printf("peer go info: unpinned, the channel partner ran on another CPU than the pinger "+
		"in %d of %d round trips\n", unpinnedCrossings(rounds), rounds)
	runBench("futex_ping_pong_2_cpus_pinned", 1000, pinnedChanPingPong)
	runBench("futex_ping_pong_2_cpus_pinned_futex", 1000, pinnedFutexPingPong)
}
