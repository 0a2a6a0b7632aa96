package core

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"shark/core/kernels"
)

// Pooled lookups of rows scattered over a table larger than the cache are
// bound by memory latency: a load that misses every cache takes hundreds of
// nanoseconds (more under virtualization), and a core keeps only a dozen or
// two such misses in flight. So a lookup runs over a whole batch of bags in groups of
// PoolGroup rows: a compact loop loads a byte of every cache line of the
// group's rows (Touch), so that their misses overlap, and only then are
// the rows, now in the cache, added. A compressed table loads the
// serving-index entries of the next group right before, so that the
// index's misses overlap the rows'.
const PoolGroup = 32

// TouchSink keeps the touching loads from being optimized away.
var TouchSink atomic.Uint32

// Touch loads a byte of every 64-byte line of each row and returns their
// xor, to be fed to TouchSink. Not inlined: inlined into a lookup loop,
// its running xor was kept on the stack, which chained every load through a
// store.
//
//go:noinline
func Touch(rows [][]byte) byte {
	var s byte
	for _, row := range rows {
		for i := 0; i < len(row); i += 64 {
			s ^= row[i]
		}
		if len(row) > 0 {
			s ^= row[len(row)-1]
		}
	}
	return s
}

// CheckBags validates a batch of bags for a lookup of dim-wide rows: bag b
// is ids[offsets[b]:offsets[b+1]], its output dst[b*dim:(b+1)*dim]. It
// returns the number of bags.
func CheckBags(ids, offsets []int, dim int, dst []float32) (int, error) {
	nb := len(offsets) - 1
	if nb < 0 {
		return 0, nil
	}
	if len(dst) < nb*dim {
		return 0, fmt.Errorf("%w: %d bags of %d need %d outputs, have %d", ErrInvalid, nb, dim, nb*dim, len(dst))
	}
	if offsets[0] != 0 || offsets[nb] != len(ids) {
		return 0, fmt.Errorf("%w: bag offsets must run from 0 to len(ids) = %d", ErrInvalid, len(ids))
	}
	for b := 0; b < nb; b++ {
		if offsets[b] > offsets[b+1] {
			return 0, fmt.Errorf("%w: bag offsets[%d] = %d > offsets[%d] = %d", ErrInvalid, b, offsets[b], b+1, offsets[b+1])
		}
	}
	return nb, nil
}

// MeanBags divides each bag's sum by its size (an empty bag stays zero).
func MeanBags(offsets []int, dim int, dst []float32) {
	for b := 0; b+1 < len(offsets); b++ {
		if k := offsets[b+1] - offsets[b]; k > 0 {
			inv := 1 / float32(k)
			for i := range dst[b*dim : (b+1)*dim] {
				dst[b*dim+i] *= inv
			}
		}
	}
}

// PoolBagsF32 sets dst[b*dim:(b+1)*dim] to the sum of the rows
// ids[offsets[b]:offsets[b+1]] of a row-major float32 table (their mean if
// mean is set), for every bag b:
//
//	for _, id := range bag { for i := range out { out[i] += table[id*dim+i] } }
//
// It is the fp32 lookup that lookups from a compressed table are measured
// against, built the same way (touch a group, then add it) so that their
// ratio measures the bytes moved, not a difference in the loop.
func PoolBagsF32(table []float32, dim int, ids, offsets []int, mean bool, dst []float32) error {
	return poolF32(table, dim, ids, offsets, mean, dst, false)
}

// PoolBagsF32Prefetch is PoolBagsF32 (the same sums, in the same order)
// with another loop: while a group's rows are added, the next group's are
// asked for with a software prefetch (kernels.Prefetch; a plain loop where
// the build has none). For wide rows it is the faster fp32 loop on this
// project's machine (BENCHMARKS.md), so `shark bench lookup` measures the
// compressed lookups against it too.
func PoolBagsF32Prefetch(table []float32, dim int, ids, offsets []int, mean bool, dst []float32) error {
	return poolF32(table, dim, ids, offsets, mean, dst, true)
}

func poolF32(table []float32, dim int, ids, offsets []int, mean bool, dst []float32, prefetch bool) error {
	nb, err := CheckBags(ids, offsets, dim, dst)
	if err != nil || nb == 0 {
		return err
	}
	rows := 0
	if dim > 0 {
		rows = len(table) / dim
	}
	for _, id := range ids {
		if id < 0 || id >= rows {
			return fmt.Errorf("%w: row %d out of range [0, %d)", ErrInvalid, id, rows)
		}
	}
	clear(dst[:nb*dim])
	rowBytes := func(id int) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(&table[id*dim])), 4*dim) }
	var group [PoolGroup][]byte
	var sink byte
	if prefetch { // ids are in range, so a row has dim > 0 values
		for _, id := range ids[:min(PoolGroup, len(ids))] {
			kernels.Prefetch(rowBytes(id))
		}
	}
	bag := 0
	for g := 0; g < len(ids); g += PoolGroup {
		k := min(PoolGroup, len(ids)-g)
		if prefetch {
			for _, id := range ids[g+k : min(g+k+PoolGroup, len(ids))] {
				kernels.Prefetch(rowBytes(id))
			}
		} else {
			for j, id := range ids[g : g+k] {
				group[j] = rowBytes(id)
			}
			sink ^= Touch(group[:k])
		}
		for j, id := range ids[g : g+k] {
			for g+j >= offsets[bag+1] {
				bag++
			}
			kernels.Axpy(1, table[id*dim:(id+1)*dim], dst[bag*dim:(bag+1)*dim])
		}
	}
	TouchSink.Store(uint32(sink))
	if mean {
		MeanBags(offsets, dim, dst)
	}
	return nil
}
