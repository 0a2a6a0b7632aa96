package formats

import (
	"fmt"
	"io"
	"sync"
	"unsafe"
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
	var buf []byte
	if s.t.DType == F32 && littleEndian {
		// The file's bytes are the float32 values: read them in place.
		buf = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), need)
	} else {
		bp, _ := s.pool.Get().(*[]byte)
		if bp == nil {
			b := make([]byte, 0, need)
			bp = &b
		}
		if cap(*bp) < need {
			*bp = make([]byte, need)
		}
		buf = (*bp)[:need]
		defer s.pool.Put(bp)
	}
	n, err := s.r.ReadAt(buf, s.off+int64(lo)*int64(s.d*s.es))
	if n < need {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("tensor %q: reading rows %d..%d: %w", s.t.Name, lo, hi, err)
	}
	if s.t.crc != nil {
		s.t.crc.add(int64(lo)*int64(s.d*s.es), buf)
	}
	if s.t.DType != F32 || !littleEndian {
		DecodeFloat32(dst[:0], s.t.DType, buf)
	}
	return nil
}

// littleEndian reports whether this machine stores numbers as the files do.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Verify checks the rows read against the file's checksum of them, if it
// keeps one (Tensor.Verify): after a pass over every row, at no cost.
func (s *Rows) Verify() error { return s.t.Verify() }

// StreamRows reads a 2-D float tensor that can only be streamed (a deflated
// .npz member) a range of rows at a time, in row order, without holding
// it: a read before the stream's position starts the stream again. Passes
// in row order (measuring, writing) cost one pass of the stream each.
func StreamRows(t *Tensor) (*Streamed, bool) {
	if len(t.Shape) != 2 || !t.DType.IsFloat() {
		return nil, false
	}
	return &Streamed{t: t, n: int(t.Shape[0]), d: int(t.Shape[1]), es: t.DType.Size()}, true
}

// Streamed is a core.RangeSource over a tensor's stream.
type Streamed struct {
	t       *Tensor
	n, d    int
	es      int
	mu      sync.Mutex
	rc      io.ReadCloser
	pos     int // the next row the stream gives
	buf     []byte
	checked bool // a pass reached the end, where the stream checks itself
}

func (s *Streamed) Rows() int { return s.n }
func (s *Streamed) Dim() int  { return s.d }

func (s *Streamed) Row(i int, dst []float32) error { return s.ReadRows(i, i+1, dst[:s.d]) }

// ReadRows decodes rows [lo, hi) into dst.
func (s *Streamed) ReadRows(lo, hi int, dst []float32) error {
	if lo < 0 || hi > s.n || lo > hi {
		return fmt.Errorf("tensor %q: rows %d..%d out of range [0, %d)", s.t.Name, lo, hi, s.n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rc == nil || lo < s.pos {
		if err := s.restart(); err != nil {
			return err
		}
	}
	row := int64(s.d * s.es)
	if skip := int64(lo-s.pos) * row; skip > 0 {
		if _, err := io.CopyN(io.Discard, s.rc, skip); err != nil {
			return s.fail(lo, hi, err)
		}
	}
	need := (hi - lo) * s.d * s.es
	if cap(s.buf) < need {
		s.buf = make([]byte, need)
	}
	if _, err := io.ReadFull(s.rc, s.buf[:need]); err != nil {
		return s.fail(lo, hi, err)
	}
	s.pos = hi
	if hi == s.n {
		// The stream's last read checks the member (its CRC-32).
		if _, err := s.rc.Read(s.buf[:0]); err != nil && err != io.EOF {
			return s.fail(lo, hi, err)
		}
		s.checked = true
	}
	DecodeFloat32(dst[:0], s.t.DType, s.buf[:need])
	return nil
}

func (s *Streamed) restart() error {
	if s.rc != nil {
		s.rc.Close()
	}
	rc, err := s.t.Open()
	if err != nil {
		return err
	}
	s.rc, s.pos = rc, 0
	return nil
}

func (s *Streamed) fail(lo, hi int, err error) error {
	s.rc.Close()
	s.rc = nil
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("tensor %q: reading rows %d..%d: %w", s.t.Name, lo, hi, err)
}

// Verify checks the stream against its checksum: done by a pass that
// reached the last row, else by reading it through.
func (s *Streamed) Verify() error {
	s.mu.Lock()
	done := s.checked
	s.mu.Unlock()
	if done {
		return nil
	}
	rc, err := s.t.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// Close ends the stream.
func (s *Streamed) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rc != nil {
		s.rc.Close()
		s.rc = nil
	}
	return nil
}
