// Package par runs loops on a bounded number of goroutines. Results must not
// depend on the worker count: callers split work into fixed shards and
// combine shard results in shard order.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers is the default worker count: every core.
func Workers() int { return runtime.GOMAXPROCS(0) }

// For calls fn(i) for i in [0, n) from at most workers goroutines (workers
// <= 0 means Workers()) and returns when all calls have returned.
func For(n, workers int, fn func(i int)) {
	if workers <= 0 {
		workers = Workers()
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
