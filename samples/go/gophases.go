// SPDX-License-Identifier: MIT

// Command gophases drives the Go runtime's memory through every state memstate tracks:
// the heap grows (sysReserve, sysMap), spans are handed out (sysUsed), garbage is
// collected, debug.FreeOSMemory returns free pages (sysUnused), memory is reused
// (sysUsed over scavenged pages), goroutine stacks grow and shrink, and large objects
// come and go. Standard library only.
//
// At marked points it calls runtime.ReadMemStats and prints one JSON line:
//
//	{"mark":3,"phase":"freed","sys":...,"heap_released":...,"heap_sys":...,...}
//
// memstate sees each ReadMemStats as a uprobe on runtime.readmemstats_m, which runs
// with the world stopped, so the N-th mark it records is taken at the same moment as the
// N-th line here: `memstate run --go-marks FILE` writes what its map holds at each one.
// The program calls ReadMemStats nowhere else.
//
// With -touch-released it instead reads a page of a large object that the GC freed and
// debug.FreeOSMemory gave back to the OS: a use-after-free the runtime cannot see (the
// page reads as zeroes on Linux, and would crash on Windows), which memstate reports as
// an access-prepared violation. The test of that report uses it.
//
// Usage: gophases [-rounds N] [-quiet] [-touch-released]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"
)

var (
	marks  int
	quiet  bool
	sink   [][]byte // keeps allocations alive between phases
	spread []*node  // many small objects
)

type node struct {
	next *node
	pad  [48]byte
}

// mark reads the runtime's statistics (the world is stopped meanwhile) and prints them.
func mark(phase string) {
	var m runtime.MemStats

	runtime.ReadMemStats(&m)
	marks++
	if quiet {
		return
	}
	fmt.Printf("{\"mark\":%d,\"phase\":%q,\"sys\":%d,\"heap_released\":%d,"+
		"\"heap_sys\":%d,\"heap_inuse\":%d,\"heap_idle\":%d,\"stack_sys\":%d,"+
		"\"mspan_sys\":%d,\"mcache_sys\":%d,\"buckhash_sys\":%d,\"gc_sys\":%d,"+
		"\"other_sys\":%d,\"num_gc\":%d}\n",
		marks, phase, m.Sys, m.HeapReleased, m.HeapSys, m.HeapInuse, m.HeapIdle,
		m.StackSys, m.MSpanSys, m.MCacheSys, m.BuckHashSys, m.GCSys, m.OtherSys, m.NumGC)
}

// allocate keeps n bytes in objects of size sz, touching every page.
func allocate(n, sz int) {
	for i := 0; i < n/sz; i++ {
		b := make([]byte, sz)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i)
		}
		sink = append(sink, b)
	}
}

// small makes n linked nodes: many spans of a small size class.
func small(n int) {
	var head *node
	for i := 0; i < n; i++ {
		head = &node{next: head}
		if i%64 == 0 {
			spread = append(spread, head)
		}
	}
}

// dropHalf lets every other allocation go.
func dropHalf() {
	for i := range sink {
		if i%2 == 1 {
			sink[i] = nil
		}
	}
}

// deep recurses to grow a goroutine's stack (copied to bigger stacks as it goes).
func deep(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%256])
}

func stacks(g, depth int) {
	done := make(chan int)
	for i := 0; i < g; i++ {
		go func(i int) { done <- deep(depth + i) }(i)
	}
	for i := 0; i < g; i++ {
		<-done
	}
}

func round(r int) {
	allocate(48<<20, 32<<10) // medium objects: heap growth, sysMap, sysUsed
	allocate(24<<20, 1<<20)  // large objects: their own spans
	small(200000)
	mark(fmt.Sprintf("allocated-%d", r))

	dropHalf()
	runtime.GC()
	mark(fmt.Sprintf("gc-%d", r))

	debug.FreeOSMemory() // scavenge everything free: sysUnused
	mark(fmt.Sprintf("freed-%d", r))

	allocate(16<<20, 64<<10) // reuse of scavenged pages: sysUsed with prepared > 0
	stacks(64, 2000)
	mark(fmt.Sprintf("reused-%d", r))

	sink = nil
	spread = nil
	runtime.GC()
	debug.FreeOSMemory()
	mark(fmt.Sprintf("released-%d", r))
}

// touchReleased reads a released page: see the package comment.
func touchReleased() byte {
	b := make([]byte, 8<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	addr := uintptr(unsafe.Pointer(&b[0]))
	b = nil
	runtime.GC()
	debug.FreeOSMemory()
	mark("released-object")
	// No pointer to the freed object lives across a GC: only this read makes one.
	return *(*byte)(unsafe.Pointer(addr + 1<<20 + 123))
}

func main() {
	rounds := flag.Int("rounds", 2, "allocate/free rounds")
	touch := flag.Bool("touch-released", false, "read a page the runtime gave back (a bug)")
	flag.BoolVar(&quiet, "quiet", false, "no mark lines (for timing)")
	flag.Parse()

	if *touch {
		fmt.Fprintf(os.Stderr, "gophases: read %d from a released page\n", touchReleased())
		return
	}

	start := time.Now()
	mark("start")
	for r := 1; r <= *rounds; r++ {
		round(r)
	}
	mark("end")
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Fprintf(os.Stderr, "gophases: %d marks, %d rounds, cpu %.3f s, %.3f s\n", marks,
		*rounds, cpu.Seconds(), time.Since(start).Seconds())
}
