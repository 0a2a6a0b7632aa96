package core

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"shark/core/par"
)

// RowSource is a table's rows. Row may be called in any order and from many
// goroutines at once.
type RowSource interface {
	Rows() int
	Dim() int
	Row(i int, dst []float32) error
}

// Table is an embedding table held in memory, row-major.
type Table struct {
	Name string
	R, D int
	Data []float32
}

func (t *Table) Rows() int { return t.R }
func (t *Table) Dim() int  { return t.D }
func (t *Table) Row(i int, dst []float32) error {
	copy(dst[:t.D], t.Data[i*t.D:(i+1)*t.D])
	return nil
}

// MeasureChunk is the number of rows read and measured as one unit of
// parallel work.
const MeasureChunk = 2048

// MeasureStats reads every row of src once, in chunks measured in parallel
// on all cores, and hands each row's stats to emit in row order. prio fills
// dst with the priorities of rows [lo, hi), from several goroutines at once
// (a stretch at a time, so that priorities can be read from a file); nil
// means each row's L2 norm (the fallback when no access counts are known:
// large rows move the model's output most).
func MeasureStats(src RowSource, prio func(lo, hi int, dst []float64) error, emit func(r int, s RowStat) error, progress func(done int)) error {
	n, d := src.Rows(), src.Dim()
	const group = 8 // chunks per round: memory stays at group*MeasureChunk rows
	bufs := make([][]float32, group)
	out := make([][]RowStat, group)
	errs := make([]error, group)
	for start := 0; start < n; start += group * MeasureChunk {
		k := min(group, (n-start+MeasureChunk-1)/MeasureChunk)
		par.For(k, 0, func(c int) {
			lo := start + c*MeasureChunk
			hi := min(lo+MeasureChunk, n)
			if bufs[c] == nil {
				bufs[c] = make([]float32, MeasureChunk*d)
				out[c] = make([]RowStat, MeasureChunk)
			}
			rows := bufs[c][:(hi-lo)*d]
			if errs[c] = ReadRows(src, lo, hi, rows); errs[c] != nil {
				errs[c] = fmt.Errorf("reading rows %d..%d: %w", lo, hi, errs[c])
				return
			}
			back := make([]float32, d)
			scratch := make([]byte, FP32.RowBytes(d)+4)
			var pr []float64
			if prio != nil {
				pr = make([]float64, hi-lo)
				if errs[c] = prio(lo, hi, pr); errs[c] != nil {
					errs[c] = fmt.Errorf("priorities of rows %d..%d: %w", lo, hi, errs[c])
					return
				}
			}
			for r := lo; r < hi; r++ {
				row := rows[(r-lo)*d : (r-lo+1)*d]
				var p float64
				if prio != nil {
					p = pr[r-lo]
				} else {
					for _, v := range row {
						p += float64(v) * float64(v)
					}
					p = math.Sqrt(p)
				}
				out[c][r-lo] = StatOf(p, MeasureRow(row, scratch, back))
			}
		})
		for c := 0; c < k; c++ {
			if errs[c] != nil {
				return errs[c]
			}
			lo := start + c*MeasureChunk
			for i, s := range out[c][:min(MeasureChunk, n-lo)] {
				if err := emit(lo+i, s); err != nil {
					return err
				}
			}
		}
		if progress != nil {
			progress(min(n, start+group*MeasureChunk))
		}
	}
	return nil
}

// Measure reads every row of src once and returns its per-tier errors.
func Measure(src RowSource, progress func(done int)) ([]RowError, error) {
	n, d := src.Rows(), src.Dim()
	errs := make([]RowError, n)
	shards := (n + MeasureChunk - 1) / MeasureChunk
	fail := make([]error, shards)
	var done atomic.Int64
	var mu sync.Mutex // progress need not be safe for concurrent use
	par.For(shards, 0, func(k int) {
		row := make([]float32, d)
		back := make([]float32, d)
		scratch := make([]byte, FP32.RowBytes(d)+4)
		for r := k * MeasureChunk; r < min(n, (k+1)*MeasureChunk); r++ {
			if err := src.Row(r, row); err != nil {
				fail[k] = fmt.Errorf("reading row %d: %w", r, err)
				return
			}
			errs[r] = MeasureRow(row, scratch, back)
		}
		if progress != nil {
			mu.Lock()
			progress(int(done.Add(int64(min(n, (k+1)*MeasureChunk) - k*MeasureChunk))))
			mu.Unlock()
		}
	})
	for _, err := range fail {
		if err != nil {
			return nil, err
		}
	}
	return errs, nil
}

// TableStats summarises a table's assignment and reconstruction error.
type TableStats struct {
	Rows, Dim   int
	Tiers       [NumTiers]int64 // rows per tier
	BytesBefore int64           // fp32
	BytesAfter  int64           // stored, index and padding included
	RMSE        float64         // over all values
	MaxAbsErr   float64
	WeightedErr float64 // sum P_r * SSE_r
}
