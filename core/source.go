package core

// RowSource is a table's rows. Row may be called in any order and from many
// goroutines at once.
type RowSource interface {
	Rows() int
	Dim() int
	Row(i int, dst []float32) error
}

// RangeSource is a RowSource that can also read a range of rows at once,
// which sources behind a file do much faster than row by row.
type RangeSource interface {
	RowSource
	ReadRows(lo, hi int, dst []float32) error
}

// SliceSource is a RowSource held in memory whose rows can be used in place.
type SliceSource interface {
	RowSource
	RowSlice(lo, hi int) []float32
}

// ReadRows fills dst with rows [lo, hi) of src, in one read when src can.
func ReadRows(src RowSource, lo, hi int, dst []float32) error {
	if rs, ok := src.(RangeSource); ok {
		return rs.ReadRows(lo, hi, dst)
	}
	d := src.Dim()
	for r := lo; r < hi; r++ {
		if err := src.Row(r, dst[(r-lo)*d:(r-lo+1)*d]); err != nil {
			return err
		}
	}
	return nil
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

// RowSlice returns rows [lo, hi) without a copy.
func (t *Table) RowSlice(lo, hi int) []float32 { return t.Data[lo*t.D : hi*t.D] }

// ReadRows copies rows [lo, hi).
func (t *Table) ReadRows(lo, hi int, dst []float32) error {
	copy(dst, t.Data[lo*t.D:hi*t.D])
	return nil
}

// Range is rows [lo, hi) of src as a source of their own: its row i is
// src's row lo+i.
func Range(src RowSource, lo, hi int) RowSource { return &rangeSource{src, lo, hi} }

type rangeSource struct {
	src    RowSource
	lo, hi int
}

func (r *rangeSource) Rows() int { return r.hi - r.lo }
func (r *rangeSource) Dim() int  { return r.src.Dim() }
func (r *rangeSource) Row(i int, dst []float32) error {
	return r.src.Row(r.lo+i, dst)
}
func (r *rangeSource) ReadRows(lo, hi int, dst []float32) error {
	return ReadRows(r.src, r.lo+lo, r.lo+hi, dst)
}
