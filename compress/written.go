package compress

import (
	"fmt"
	"math"

	"shark/core"
	"shark/core/kernels"
	"shark/core/par"
)

// A plan that assigned tiers without measuring errors (fixed fractions,
// thresholds) measures each row's error in its own tier as it is written:
// writtenErrors wraps a table's rows for the writer, and adds up the errors
// of the rows it hands over, each once.

// writtenErrors is a table's rows, measured as the writer reads them.
type writtenErrors struct {
	core.RowSource
	tp    *TablePlan
	next  int // rows before next are measured
	tiers []core.Tier
	prio  []float64
	buf   []float32
	sum   errorSum
	err   error
	// told: the writer reports each row's error as it encodes it
	// (core.ErrorSink), so reads measure nothing.
	told bool
}

// errorSum is the part of a summary the errors make.
type errorSum struct{ sse, werr, maxAbs float64 }

func (a *errorSum) add(b errorSum) {
	a.sse += b.sse
	a.werr += b.werr
	a.maxAbs = math.Max(a.maxAbs, b.maxAbs)
}

// errorChunk is the rows measured as one unit: fixed, so that the sums
// are the same whatever the number of cores.
const errorChunk = 1024

func newWrittenErrors(tp *TablePlan) core.RowSource {
	w := &writtenErrors{RowSource: tp.Rows, tp: tp}
	if ss, ok := tp.Rows.(core.SliceSource); ok {
		return &writtenSlice{writtenErrors: w, ss: ss}
	}
	return w
}

// ReadRows reads rows [lo, hi) into dst for the writer, and measures those
// not measured yet (a writer that reads a tier at a time reads rows again).
func (w *writtenErrors) ReadRows(lo, hi int, dst []float32) error {
	if err := core.ReadRows(w.RowSource, lo, hi, dst); err != nil {
		return err
	}
	if !w.told {
		w.measure(lo, hi, dst)
	}
	return nil
}

// ReportErrors is the writer's word that it will report every row's error
// (EncodedErrors).
func (w *writtenErrors) ReportErrors() { w.told = takeReported }

// takeReported is off in tests that compare the reported errors with the
// errors measured as the rows are read.
var takeReported = true

// EncodedErrors adds the errors of rows [lo, lo+len(tiers)), encoded in
// tiers, as the writer measured them; rows skipped before lo are read and
// measured first.
func (w *writtenErrors) EncodedErrors(lo int, tiers []core.Tier, errs []core.EncodedError) error {
	if !w.told {
		return nil // measured as read
	}
	if w.err == nil && lo > w.next {
		w.measure(lo, lo, nil)
	}
	if w.err != nil {
		return w.err
	}
	hi := lo + len(tiers)
	if lo < w.next || hi > w.tp.Rows.Rows() {
		return fmt.Errorf("%w: errors of rows %d..%d reported after row %d", core.ErrInvalid, lo, hi, w.next)
	}
	w.sumRange(lo, hi, tiers, func(i int, _ core.Tier) (float64, float64) { return errs[i].SSE, errs[i].MaxAbs })
	w.next = hi
	return w.err
}

// measure adds the errors of rows [lo, hi), held in rows, from where the
// last measured ended; rows skipped before lo are read and measured first.
func (w *writtenErrors) measure(lo, hi int, rows []float32) {
	if w.err != nil || hi <= w.next {
		return
	}
	dim := w.tp.Rows.Dim()
	if lo > w.next {
		gap := w.next
		w.buf = append(w.buf[:0], make([]float32, (lo-gap)*dim)...)
		if w.err = core.ReadRows(w.RowSource, gap, lo, w.buf); w.err != nil {
			return
		}
		w.measure(gap, lo, w.buf)
	}
	from := max(lo, w.next)
	w.measureRange(from, hi, rows[(from-lo)*dim:])
	w.next = hi
}

// measureRange adds the errors of rows [lo, hi) on every core, in chunks
// summed in row order.
func (w *writtenErrors) measureRange(lo, hi int, rows []float32) {
	dim := w.tp.Rows.Dim()
	var err error
	if w.tiers, err = w.tp.codes.get(lo, hi, w.tiers); err != nil {
		w.err = err
		return
	}
	w.sumRange(lo, hi, w.tiers, func(i int, t core.Tier) (float64, float64) {
		return kernels.TierError(int(t)-1, rows[i*dim:(i+1)*dim])
	})
}

// sumRange adds the errors of rows [lo, hi), in tiers, that rowErr gives
// (row i from lo) on every core, in chunks summed in row order.
func (w *writtenErrors) sumRange(lo, hi int, tiers []core.Tier, rowErr func(i int, t core.Tier) (float64, float64)) {
	w.prio = append(w.prio[:0], make([]float64, hi-lo)...)
	if rs, ok := w.tp.Stats.(core.RangeStats); ok {
		w.err = rs.ScanRange(lo, hi, func(r int, s *core.RowStat) { w.prio[r-lo] = float64(s.P) })
	}
	parts := make([]errorSum, (hi-lo+errorChunk-1)/errorChunk)
	par.For(len(parts), 0, func(k int) {
		p := &parts[k]
		for i := k * errorChunk; i < min(hi-lo, (k+1)*errorChunk); i++ {
			t := tiers[i]
			if t == core.FP32 {
				continue
			}
			sse, mx := rowErr(i, t)
			p.sse += sse
			p.werr += w.prio[i] * sse
			p.maxAbs = max(p.maxAbs, mx) // math.Max's rules (NaN, -0), inline: math.Max is a call a row
		}
	})
	for _, p := range parts {
		w.sum.add(p)
	}
}

// finish measures any rows the writer did not read, and puts the sums in
// the table's summary.
func (w *writtenErrors) finish() error {
	if n := w.tp.Rows.Rows(); w.next < n && w.err == nil {
		w.measure(n, n, nil)
	}
	if w.err != nil {
		return w.err
	}
	s := &w.tp.Summary
	s.WeightedErr, s.MaxAbsErr = w.sum.werr, w.sum.maxAbs
	if v := s.Rows * s.Dim; v > 0 {
		s.RMSE = math.Sqrt(w.sum.sse / float64(v))
	}
	return nil
}

// writtenSlice is writtenErrors of rows in memory, handed over in place.
type writtenSlice struct {
	*writtenErrors
	ss core.SliceSource
}

func (w *writtenSlice) RowSlice(lo, hi int) []float32 {
	rows := w.ss.RowSlice(lo, hi)
	if !w.told {
		w.measure(lo, hi, rows)
	}
	return rows
}

func unwrapWritten(src core.RowSource) *writtenErrors {
	if ws, ok := src.(*writtenSlice); ok {
		return ws.writtenErrors
	}
	return src.(*writtenErrors)
}
