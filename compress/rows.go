package compress

import (
	"fmt"
	"math"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// Rows is a table's rows, for any face and any format: a .shark table read
// through its index, a tensor stored contiguously read through the file a
// range at a time, and anything else (a deflated .npz member) streamed, a
// range at a time in row order: no table is ever held whole.
func Rows(f *formats.File, t *formats.Tensor) (core.RowSource, error) {
	if len(t.Shape) != 2 || !t.DType.IsFloat() {
		return nil, fmt.Errorf("%w: %q is %s %v, not a 2-D float table", core.ErrInvalid, t.Name, t.DType, t.Shape)
	}
	if rd, ok := sharkfile.FromFile(f); ok && t.Tiers != nil {
		return rd.Table(t.Name)
	}
	if rows, ok := formats.TensorRows(t); ok {
		return rows, nil
	}
	rows, _ := formats.StreamRows(t)
	return rows, nil
}

// Histogram of values: counts per bin between Min and Max.
type Histogram struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Counts []int64 `json:"counts"`
	Rows   int     `json:"rows"`    // rows in the table
	Sample int     `json:"sampled"` // rows the histogram was made of
}

// NormSample is the most rows a row-norm histogram reads, spread evenly
// over the table.
const NormSample = 65536

// Norms is the histogram of the row L2 norms of the table name in f, from
// at most NormSample rows spread evenly over it.
func Norms(f *formats.File, name string, bins int) (*Histogram, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	src, err := Rows(f, t)
	if err != nil {
		return nil, err
	}
	return NormHistogram(src, NormSample, bins)
}

// normRun is the most rows a norm histogram reads at once: a sample of a
// large table is runs of this many rows spread evenly over it, each run
// one read, so that the table is read in a few hundred places (16 MiB of
// a 1 GiB table of 64 columns) rather than all through, as rows spread
// one by one are when the file is read in windows of pages (a browser's
// reads of the dropped file, a disk's read-ahead).
const normRun = 256

// normRuns are the runs of rows [lo, hi) a histogram of at most maxRows
// rows of n reads: every row when they are few enough, else maxRows/run
// runs of run rows starting evenly apart.
func normRuns(n, maxRows int) [][2]int {
	var runs [][2]int
	if n <= maxRows {
		for lo := 0; lo < n; lo += normRun {
			runs = append(runs, [2]int{lo, min(n, lo+normRun)})
		}
		return runs
	}
	run := max(1, min(normRun, maxRows))
	k := max(1, maxRows/run)
	for i := range k {
		lo := int(int64(i) * int64(n) / int64(k))
		runs = append(runs, [2]int{lo, lo + run})
	}
	return runs
}

// NormHistogram is the histogram of the row L2 norms of src, from at most
// maxRows rows spread evenly over the table in runs (normRuns).
func NormHistogram(src core.RowSource, maxRows, bins int) (*Histogram, error) {
	n, d := src.Rows(), src.Dim()
	if bins < 1 || bins > 1000 {
		return nil, fmt.Errorf("%w: bins must be 1..1000", core.ErrInvalid)
	}
	buf := make([]float32, normRun*d)
	var norms []float64
	for _, run := range normRuns(n, maxRows) {
		rows := buf[:(run[1]-run[0])*d]
		if err := core.ReadRows(src, run[0], run[1], rows); err != nil {
			return nil, err
		}
		for r := 0; r < len(rows); r += d {
			s := 0.0
			for _, v := range rows[r : r+d] {
				s += float64(v) * float64(v)
			}
			norms = append(norms, math.Sqrt(s))
		}
	}
	h := &Histogram{Counts: make([]int64, bins), Rows: n, Sample: len(norms)}
	if len(norms) == 0 {
		return h, nil
	}
	h.Min, h.Max = norms[0], norms[0]
	for _, v := range norms {
		h.Min, h.Max = math.Min(h.Min, v), math.Max(h.Max, v)
	}
	w := (h.Max - h.Min) / float64(bins)
	for _, v := range norms {
		b := bins - 1
		if w > 0 {
			b = min(bins-1, int((v-h.Min)/w))
		}
		h.Counts[b]++
	}
	return h, nil
}
