// Command live measures the memory of live blocked goroutines: the Go side
// of runtime/benches/live_goroutines.rs. It starts N goroutines that each
// block on a receive from one unbuffered channel, reads VmRSS from
// /proc/self/status and counts /proc/self/maps before and after, prints the
// cost of one goroutine, then closes the channel to release them.
//
//	live [-n N]
//
// The RESULT line is what bench/compare.sh reads.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type snapshot struct {
	rssKiB, maps, threads int
}

func take() snapshot {
	var s snapshot
	f, err := os.Open("/proc/self/status")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "VmRSS:":
			s.rssKiB = v
		case "Threads:":
			s.threads = v
		}
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		panic(err)
	}
	s.maps = strings.Count(string(maps), "\n")
	return s
}

func main() {
	n := flag.Int("n", 10000, "goroutines to keep blocked")
	flag.Parse()

	var ready sync.WaitGroup
	blocked := make(chan struct{})
	runtime.GC()
	before := take()
	start := time.Now()
	for i := 0; i < *n; i++ {
		ready.Add(1)
		go func() {
			ready.Done()
			<-blocked
		}()
	}
	ready.Wait()
	started := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	after := take()
	close(blocked)

	kib := float64(after.rssKiB-before.rssKiB) / float64(*n)
	maps := float64(after.maps-before.maps) / float64(*n)
	fmt.Printf("go: %d live blocked goroutines: VmRSS %d -> %d KiB (%.2f KiB each), "+
		"%d -> %d mappings (%.2f each), %d -> %d threads, started in %.1f ms\n",
		*n, before.rssKiB, after.rssKiB, kib, before.maps, after.maps, maps,
		before.threads, after.threads, float64(started.Microseconds())/1e3)
	fmt.Printf("RESULT go n=%d kib_per_goroutine=%.2f maps_per_goroutine=%.2f\n", *n, kib, maps)
}
