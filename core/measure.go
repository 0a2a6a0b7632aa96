package core

import (
	"fmt"
	"math"

	"shark/core/kernels"
	"shark/core/par"
)

// RowError is the reconstruction error of one row in each tier.
type RowError struct {
	SSE    [NumTiers]float64 // sum of squared differences
	MaxAbs [NumTiers]float64
}

// MeasureRow is the error of row in every tier, what encoding it and
// decoding it gives, and its L2 norm (kernels.RowErrors, in one pass). A
// row with a NaN or an infinity can only be stored exactly: its lossy tiers
// get an infinite error so that no assignment picks them.
func MeasureRow(row []float32) (RowError, float64) {
	var e RowError
	if len(row) == 0 {
		return e, 0
	}
	k, ok := kernels.RowErrors(row)
	if !ok {
		for t := FP16; t < NumTiers; t++ {
			e.SSE[t], e.MaxAbs[t] = math.Inf(1), math.Inf(1)
		}
		return e, math.Inf(1)
	}
	for t := FP16; t < NumTiers; t++ {
		e.SSE[t], e.MaxAbs[t] = k.SSE[t-1], k.MaxAbs[t-1]
	}
	return e, math.Sqrt(k.SumSquares)
}

// MeasureChunk is the number of rows read and measured as one unit of
// parallel work.
const MeasureChunk = 2048

// PriorityFunc fills dst with the priorities of rows [lo, hi). It is
// called from several goroutines at once, a stretch at a time, so that
// priorities can be read from a file.
type PriorityFunc func(lo, hi int, dst []float64) error

// measureRound is the rows read and measured together: 8 chunks, one per
// core at a time, so memory stays at two rounds of rows.
const measureRound = 8 * MeasureChunk

// MeasureStats reads every row of src once, in row order (a source that
// can only stream, a deflated .npz member, is read as it must be), and
// measures them in chunks on all cores while the next rows are read; it
// hands each row's stats to emit in row order. A nil prio means each row's
// L2 norm (the fallback when no access counts are known: large rows move
// the model's output most), its squares summed in float64 in eight lanes
// (kernels.RowErrors).
func MeasureStats(src RowSource, prio PriorityFunc, emit func(r int, s RowStat) error, progress func(done int)) error {
	return measure(&measurer{src: src, prio: prio, errors: true}, emit, progress)
}

// MeasurePriorities is MeasureStats for assignments that need no errors
// (fixed fractions, thresholds): each row's priority, and an infinite
// error in every lossy tier for a row holding a NaN or an infinity, which
// must stay at fp32; the other errors are 0. With prio given, a row is read
// for that check alone.
func MeasurePriorities(src RowSource, prio PriorityFunc, emit func(r int, s RowStat) error, progress func(done int)) error {
	return measure(&measurer{src: src, prio: prio}, emit, progress)
}

func measure(m *measurer, emit func(r int, s RowStat) error, progress func(done int)) error {
	src := m.src
	n := src.Rows()
	rounds, stop := readRounds(src)
	defer close(stop)
	out := make([][]RowStat, measureRound/MeasureChunk)
	errs := make([]error, len(out))
	for b := range rounds {
		if b.err != nil {
			return b.err
		}
		k := (b.hi - b.lo + MeasureChunk - 1) / MeasureChunk
		par.For(k, 0, func(c int) {
			lo := b.lo + c*MeasureChunk
			hi := min(lo+MeasureChunk, b.hi)
			out[c], errs[c] = m.chunk(lo, hi, b.rows[(lo-b.lo)*m.src.Dim():(hi-b.lo)*m.src.Dim()], out[c])
		})
		b.done()
		for c := range k {
			if errs[c] != nil {
				return errs[c]
			}
			for i, s := range out[c] {
				if err := emit(b.lo+c*MeasureChunk+i, s); err != nil {
					return err
				}
			}
		}
		if progress != nil {
			progress(min(n, b.hi))
		}
	}
	return nil
}

// round is rows [lo, hi) of a source, read.
type round struct {
	lo, hi int
	rows   []float32
	err    error
	done   func() // hands the buffer back to the reader
}

// readRounds reads src a round at a time, in row order, into one of two
// buffers, until stop is closed.
func readRounds(src RowSource) (<-chan round, chan struct{}) {
	n, d := src.Rows(), src.Dim()
	out, stop := make(chan round), make(chan struct{})
	free := make(chan []float32, 2)
	for range 2 {
		free <- make([]float32, min(n, measureRound)*d)
	}
	go func() {
		defer close(out)
		for lo := 0; lo < n; lo += measureRound {
			var buf []float32
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			hi := min(n, lo+measureRound)
			r := round{lo: lo, hi: hi, rows: buf[:(hi-lo)*d], done: func() { free <- buf }}
			if err := ReadRows(src, lo, hi, r.rows); err != nil {
				r.err = fmt.Errorf("reading rows %d..%d: %w", lo, hi, err)
			}
			select {
			case out <- r:
			case <-stop:
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	return out, stop
}

// measurer is MeasureStats' work on one chunk of rows.
type measurer struct {
	src    RowSource
	prio   PriorityFunc
	errors bool // the rows' errors too, not only their priorities
}

// chunk measures rows [lo, hi), read into rows, into out (reused).
func (m *measurer) chunk(lo, hi int, rows []float32, out []RowStat) ([]RowStat, error) {
	d := m.src.Dim()
	pr := make([]float64, hi-lo)
	if m.prio != nil {
		if err := m.prio(lo, hi, pr); err != nil {
			return nil, fmt.Errorf("priorities of rows %d..%d: %w", lo, hi, err)
		}
	}
	out = out[:0]
	for i := range pr {
		row := rows[i*d : (i+1)*d]
		var e RowError
		var norm float64
		if m.errors {
			e, norm = MeasureRow(row)
		} else {
			e, norm = priorityOnly(row)
		}
		if m.prio == nil {
			pr[i] = norm
		}
		out = append(out, StatOf(pr[i], e))
	}
	return out, nil
}

// priorityOnly is MeasureRow without the errors: the norm, and infinite
// errors for a row that is not finite.
func priorityOnly(row []float32) (RowError, float64) {
	var e RowError
	s, ok := kernels.RowNorm(row)
	if !ok {
		for t := FP16; t < NumTiers; t++ {
			e.SSE[t], e.MaxAbs[t] = math.Inf(1), math.Inf(1)
		}
		return e, math.Inf(1)
	}
	return e, math.Sqrt(s)
}
