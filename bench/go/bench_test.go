// Package goscopebench holds the Go side of goscope's benchmarks (issues 5 and 18): the
// same workloads as the criterion benches in runtime/benches/, so that
// bench/compare.sh can put Go's numbers beside goscope's and raw crossbeam's.
//
// One op is what one criterion iteration is on the Rust side:
//
//	BenchmarkSpawnWaitGroup10k      10,000 goroutines started and waited for
//	BenchmarkPingPongUnbuffered     one round trip over two unbuffered channels
//	BenchmarkPingPongCap1           one round trip over two channels of capacity 1
//	BenchmarkBuffered1P1CCap1024    one item, 1 producer goroutine, 1 consumer
//	BenchmarkBuffered4P4CCap1024    one item, 4 producers, 4 consumers
//	BenchmarkWorkerPool100k5W       100,000 jobs through 5 workers and back
//	BenchmarkSelect2WayBuffered     one two-way select that receives an item
//	BenchmarkSelect2WayUnbuffered   the same over unbuffered channels (a rendezvous each)
//	BenchmarkPrimeSieve300          the first 300 primes from a chain of 300 filter goroutines
//
// BenchmarkPrimeSieve300 also reports the CPU time (user + system) of the
// process per op, as cpu-ns/op (getrusage around the b.N loop), beside the
// criterion bench's RESULT cpu line.
//
// Run with `go test -run '^$' -bench . ./` in bench/go.
package goscopebench

import (
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	goroutines = 10000  // per op of BenchmarkSpawnWaitGroup10k
	capacity   = 1024   // of the producer/consumer and select channels
	sides      = 4      // producers and consumers of the 4P/4C benchmark
	jobs       = 100000 // per op of the worker pool
	workers    = 5      // of the worker pool
	primes     = 300    // found per op of BenchmarkPrimeSieve300
	lastPrime  = 1987   // the 300th: the sieve's generator stops there
)

// sink keeps received values alive, so the compiler cannot drop the work.
var sink int

func BenchmarkSpawnWaitGroup10k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
}

// pingPong measures round trips to an echo goroutine over channels of
// capacity c.
func pingPong(b *testing.B, c int) {
	ping := make(chan int, c)
	pong := make(chan int, c)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	s := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- i
		s += <-pong
	}
	b.StopTimer()
	close(ping)
	sink += s
}

func BenchmarkPingPongUnbuffered(b *testing.B) { pingPong(b, 0) }

func BenchmarkPingPongCap1(b *testing.B) { pingPong(b, 1) }

func BenchmarkBuffered1P1CCap1024(b *testing.B) {
	ch := make(chan int, capacity)
	n := b.N
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
	}()
	s := 0
	for i := 0; i < n; i++ {
		s += <-ch
	}
	sink += s
}

// share is producer p's part of n items, so that the parts add up to n.
func share(n, p int) int {
	part := n / sides
	if p < n%sides {
		part++
	}
	return part
}

func BenchmarkBuffered4P4CCap1024(b *testing.B) {
	ch := make(chan int, capacity)
	var producers, consumers sync.WaitGroup
	sums := make([]int, sides)
	for p := 0; p < sides; p++ {
		n := share(b.N, p)
		producers.Add(1)
		go func() {
			defer producers.Done()
			for i := 0; i < n; i++ {
				ch <- i
			}
		}()
	}
	for c := 0; c < sides; c++ {
		sum := &sums[c]
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			for v := range ch {
				*sum += v
			}
		}()
	}
	producers.Wait()
	close(ch)
	consumers.Wait()
	for _, s := range sums {
		sink += s
	}
}

// BenchmarkWorkerPool100k5W is Go by Example's worker pool without the
// sleep, its workers started once and fed 100,000 jobs per op.
func BenchmarkWorkerPool100k5W(b *testing.B) {
	jobsCh := make(chan int, jobs)
	results := make(chan int, jobs)
	for w := 0; w < workers; w++ {
		go func() {
			for j := range jobsCh {
				results <- j * 2
			}
		}()
	}
	s := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < jobs; j++ {
			jobsCh <- j
		}
		for j := 0; j < jobs; j++ {
			s += <-results
		}
	}
	b.StopTimer()
	close(jobsCh)
	sink += s
}

// select2Way runs b.N two-way selects over two channels of capacity c, each
// fed by its own producer.
func select2Way(b *testing.B, c int) {
	x := make(chan int, c)
	y := make(chan int, c)
	n := b.N
	go func() {
		for i := 0; i < n/2; i++ {
			x <- i
		}
	}()
	go func() {
		for i := 0; i < n-n/2; i++ {
			y <- i
		}
	}()
	s := 0
	for i := 0; i < n; i++ {
		select {
		case v := <-x:
			s += v
		case v := <-y:
			s += v
		}
	}
	sink += s
}

func BenchmarkSelect2WayBuffered(b *testing.B) { select2Way(b, capacity) }

func BenchmarkSelect2WayUnbuffered(b *testing.B) { select2Way(b, 0) }

// generate sends 2, 3, ..., lastPrime on ch, then closes it.
func generate(ch chan<- int) {
	for i := 2; i <= lastPrime; i++ {
		ch <- i
	}
	close(ch)
}

// filter copies in to out, dropping the multiples of prime, and closes out
// when in is closed.
func filter(in <-chan int, out chan<- int, prime int) {
	for i := range in {
		if i%prime != 0 {
			out <- i
		}
	}
	close(out)
}

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPrimeSieve300 is Go's concurrent prime sieve (doc/play/sieve.go)
// for the first 300 primes, with a generator that stops at the last one so
// that the chain closes link by link and no goroutine is left behind (the
// same work as the criterion bench's).
func BenchmarkPrimeSieve300(b *testing.B) {
	cpu := cpuTime(b)
	s := 0
	for n := 0; n < b.N; n++ {
		ch := make(chan int)
		go generate(ch)
		for i := 0; i < primes; i++ {
			prime := <-ch
			s += prime
			ch1 := make(chan int)
			go filter(ch, ch1, prime)
			ch = ch1
		}
		for range ch {
			b.Fatal("nothing follows the last prime")
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
	sink += s
}
