package core

import (
	"fmt"
	"math"
)

// RowSource is a table's rows, read one at a time. Row may be called in any
// order and from one goroutine at a time.
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

// Measure reads every row of src once and returns its per-tier errors.
func Measure(src RowSource, progress func(done int)) ([]RowError, error) {
	n, d := src.Rows(), src.Dim()
	errs := make([]RowError, n)
	row := make([]float32, d)
	back := make([]float32, d)
	scratch := make([]byte, FP32.RowBytes(d)+4)
	for r := 0; r < n; r++ {
		if err := src.Row(r, row); err != nil {
			return nil, fmt.Errorf("reading row %d: %w", r, err)
		}
		errs[r] = MeasureRow(row, scratch, back)
		if progress != nil && r%4096 == 4095 {
			progress(r + 1)
		}
	}
	if progress != nil {
		progress(n)
	}
	return errs, nil
}

// RowNorms returns each row's L2 norm: the fallback priority when no access
// counts are known (large rows move the model's output most).
func RowNorms(src RowSource) ([]float64, error) {
	n, d := src.Rows(), src.Dim()
	out := make([]float64, n)
	row := make([]float32, d)
	for r := 0; r < n; r++ {
		if err := src.Row(r, row); err != nil {
			return nil, fmt.Errorf("reading row %d: %w", r, err)
		}
		s := 0.0
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		out[r] = math.Sqrt(s)
	}
	return out, nil
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

// Stats computes a table's statistics for an assignment.
func Stats(dim int, p []float64, errs []RowError, tiers []Tier) TableStats {
	s := TableStats{Rows: len(tiers), Dim: dim, BytesBefore: int64(len(tiers)) * int64(dim) * 4}
	sse := 0.0
	for r, t := range tiers {
		s.Tiers[t]++
		sse += errs[r].SSE[t]
		s.MaxAbsErr = math.Max(s.MaxAbsErr, errs[r].MaxAbs[t])
	}
	if n := len(tiers) * dim; n > 0 {
		s.RMSE = math.Sqrt(sse / float64(n))
	}
	s.BytesAfter = TableBytes(dim, s.Tiers)
	if p != nil {
		s.WeightedErr = WeightedError(p, errs, tiers)
	}
	return s
}
