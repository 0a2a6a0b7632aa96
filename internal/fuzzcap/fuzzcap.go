// Package fuzzcap bounds what a fuzz case may allocate, so that a reader
// that trusts a count read from its input fails its fuzz target instead of
// passing with a huge allocation.
package fuzzcap

import (
	"runtime"
	"testing"
)

// Limit is what reading an input of n bytes may allocate: 64 times the
// input, plus a MiB for the structures any read makes, and never more than
// 256 MiB.
func Limit(n int) uint64 { return min(64*uint64(n)+1<<20, 256<<20) }

// Run runs fn, one fuzz case over an input of n bytes, and fails t if it
// allocated more than Limit(n). Fuzz cases run one at a time in a worker
// process, so the process's allocations during fn are fn's.
func Run(t testing.TB, n int, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > Limit(n) {
		t.Fatalf("a %d-byte input made the reader allocate %d bytes (the limit is %d)", n, got, Limit(n))
	}
}
