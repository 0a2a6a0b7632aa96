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

// MeasureRow encodes row in every tier and measures what comes back. A row
// with a NaN or an infinity can only be stored exactly: its lossy tiers get
// an infinite error so that no assignment picks them.
func MeasureRow(row []float32, scratch []byte, back []float32) RowError {
	var e RowError
	finite := true
	for _, v := range row {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 { // NaN or ±Inf
			finite = false
			break
		}
	}
	for t := FP16; t < NumTiers; t++ {
		if !finite {
			e.SSE[t], e.MaxAbs[t] = math.Inf(1), math.Inf(1)
			continue
		}
		b := scratch[:t.RowBytes(len(row))]
		EncodeRow(t, b, row)
		DecodeRow(t, back[:len(row)], b)
		e.SSE[t], e.MaxAbs[t] = kernels.SumSquaredDiff(row, back[:len(row)])
	}
	return e
}

// MeasureChunk is the number of rows read and measured as one unit of
// parallel work.
const MeasureChunk = 2048

// PriorityFunc fills dst with the priorities of rows [lo, hi). It is
// called from several goroutines at once, a stretch at a time, so that
// priorities can be read from a file.
type PriorityFunc func(lo, hi int, dst []float64) error

// MeasureStats reads every row of src once, in chunks measured in parallel
// on all cores, and hands each row's stats to emit in row order. A nil prio
// means each row's L2 norm (the fallback when no access counts are known:
// large rows move the model's output most).
func MeasureStats(src RowSource, prio PriorityFunc, emit func(r int, s RowStat) error, progress func(done int)) error {
	n := src.Rows()
	const group = 8 // chunks per round: memory stays at group*MeasureChunk rows
	m := &measurer{src: src, prio: prio}
	out := make([][]RowStat, group)
	errs := make([]error, group)
	bufs := make([][]float32, group)
	for start := 0; start < n; start += group * MeasureChunk {
		k := min(group, (n-start+MeasureChunk-1)/MeasureChunk)
		par.For(k, 0, func(c int) {
			lo := start + c*MeasureChunk
			out[c], errs[c] = m.chunk(lo, min(lo+MeasureChunk, n), &bufs[c], out[c])
		})
		for c := range k {
			if errs[c] != nil {
				return errs[c]
			}
			lo := start + c*MeasureChunk
			for i, s := range out[c] {
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

// measurer is MeasureStats' work on one chunk of rows.
type measurer struct {
	src  RowSource
	prio PriorityFunc
}

// chunk measures rows [lo, hi) into out (reused), reading them into *buf.
func (m *measurer) chunk(lo, hi int, buf *[]float32, out []RowStat) ([]RowStat, error) {
	d := m.src.Dim()
	if *buf == nil {
		*buf = make([]float32, MeasureChunk*d)
	}
	rows := (*buf)[:(hi-lo)*d]
	if err := ReadRows(m.src, lo, hi, rows); err != nil {
		return nil, fmt.Errorf("reading rows %d..%d: %w", lo, hi, err)
	}
	pr := make([]float64, hi-lo)
	if m.prio != nil {
		if err := m.prio(lo, hi, pr); err != nil {
			return nil, fmt.Errorf("priorities of rows %d..%d: %w", lo, hi, err)
		}
	} else {
		for i := range pr {
			pr[i] = norm(rows[i*d : (i+1)*d])
		}
	}
	back := make([]float32, d)
	scratch := make([]byte, FP32.RowBytes(d)+4)
	out = out[:0]
	for i := range pr {
		out = append(out, StatOf(pr[i], MeasureRow(rows[i*d:(i+1)*d], scratch, back)))
	}
	return out, nil
}

// norm is a row's L2 norm, summed in float64 in row order.
func norm(row []float32) float64 {
	s := 0.0
	for _, v := range row {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}
