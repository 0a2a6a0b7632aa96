package compress

import (
	"math"
	"testing"
)

// countingRows is a table whose row r holds r in every column, counting
// the reads made of it and the rows they cover.
type countingRows struct {
	n, d         int
	reads, rows  int
	rowByRowRead int
}

func (c *countingRows) Rows() int { return c.n }
func (c *countingRows) Dim() int  { return c.d }
func (c *countingRows) Row(i int, dst []float32) error {
	c.rowByRowRead++
	return c.fill(i, i+1, dst)
}
func (c *countingRows) ReadRows(lo, hi int, dst []float32) error {
	c.reads++
	c.rows += hi - lo
	return c.fill(lo, hi, dst)
}
func (c *countingRows) fill(lo, hi int, dst []float32) error {
	for r := lo; r < hi; r++ {
		for j := range c.d {
			dst[(r-lo)*c.d+j] = float32(r)
		}
	}
	return nil
}

// A large table's norm histogram reads NormSample rows in a few hundred
// runs spread over it, not rows one by one across all of it (which read a
// dropped 256 MiB file through in the page, 3.3 s before measuring began).
func TestNormHistogramReadsRuns(t *testing.T) {
	src := &countingRows{n: 1 << 20, d: 4}
	h, err := NormHistogram(src, NormSample, 40)
	if err != nil {
		t.Fatal(err)
	}
	if src.rowByRowRead != 0 || src.reads > NormSample/normRun || src.rows != NormSample || h.Sample != NormSample {
		t.Fatalf("%d rows read one by one, %d reads of %d rows; sampled %d, want %d reads at most of %d rows",
			src.rowByRowRead, src.reads, src.rows, h.Sample, NormSample/normRun, NormSample)
	}
	var sum int64
	for _, c := range h.Counts {
		sum += c
	}
	// Row r's norm is 2r: the runs reach from the first row to the last run's end.
	lastRun := int64(NormSample/normRun-1) * int64(src.n) / int64(NormSample/normRun)
	if sum != NormSample || h.Min != 0 || h.Max != 2*float64(lastRun+normRun-1) {
		t.Fatalf("counts %d, norms %v..%v, want %d, 0..%v", sum, h.Min, h.Max, NormSample, 2*float64(lastRun+normRun-1))
	}
	for k, c := range h.Counts { // the runs spread evenly: every bin of 40 holds a 40th, give or take a run
		if math.Abs(float64(c)-NormSample/40.0) > normRun {
			t.Fatalf("bin %d holds %d rows of %d: the sample is not spread over the table", k, c, NormSample)
		}
	}
}

// A table of at most NormSample rows is read whole, every row in the
// histogram.
func TestNormHistogramSmallTableWhole(t *testing.T) {
	src := &countingRows{n: 1000, d: 3}
	h, err := NormHistogram(src, NormSample, 10)
	if err != nil {
		t.Fatal(err)
	}
	if h.Sample != 1000 || src.rows != 1000 || h.Max != math.Sqrt(3)*999 {
		t.Fatalf("sampled %d, read %d rows, largest norm %v", h.Sample, src.rows, h.Max)
	}
}
