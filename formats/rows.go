package formats

import (
	"fmt"
	"io"
	"sync"
)

// TensorRows reads a 2-D float tensor row by row, or a range of rows at a
// time, straight from its file through io.ReaderAt: the table is never held
// in memory, so tables larger than memory can be compressed. It is safe for
// concurrent use. ok is false when the tensor has no random access (a
// deflated .npz member); load it with Float32s instead.
func TensorRows(t *Tensor) (rows *Rows, ok bool) {
	r, off, ok := t.ReaderAt()
	if !ok || len(t.Shape) != 2 || !t.DType.IsFloat() {
		return nil, false
	}
	return &Rows{t: t, r: r, off: off, n: int(t.Shape[0]), d: int(t.Shape[1]), es: t.DType.Size()}, true
}

// Rows is a core.RowSource and core.RangeSource over a tensor in a file.
type Rows struct {
	t    *Tensor
	r    io.ReaderAt
	off  int64
	n, d int
	es   int
	pool sync.Pool
}

func (s *Rows) Rows() int { return s.n }
func (s *Rows) Dim() int  { return s.d }

func (s *Rows) Row(i int, dst []float32) error { return s.ReadRows(i, i+1, dst[:s.d]) }

// ReadRows decodes rows [lo, hi) into dst with one read.
func (s *Rows) ReadRows(lo, hi int, dst []float32) error {
	if lo < 0 || hi > s.n || lo > hi {
		return fmt.Errorf("tensor %q: rows %d..%d out of range [0, %d)", s.t.Name, lo, hi, s.n)
	}
	need := (hi - lo) * s.d * s.es
	bp, _ := s.pool.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, need)
		bp = &b
	}
	if cap(*bp) < need {
		*bp = make([]byte, need)
	}
	buf := (*bp)[:need]
	defer s.pool.Put(bp)
	n, err := s.r.ReadAt(buf, s.off+int64(lo)*int64(s.d*s.es))
	if n < need {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("tensor %q: reading rows %d..%d: %w", s.t.Name, lo, hi, err)
	}
	DecodeFloat32(dst[:0], s.t.DType, buf)
	return nil
}
