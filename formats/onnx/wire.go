package onnx

import (
	"io"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/formats"
)

// The model is read with protowire, field by field, straight from the
// file: the generated onnx.pb.go would unmarshal the whole ModelProto, a
// multi-GiB model's raw_data included, into memory. Here a field's bytes
// are only located (offset and length) until they are wanted.

// field is one field of a message: its number and wire type, its value if
// it is a number, or where its bytes are in the file.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	off int64
	n   int64
}

// scanner reads the fields of the message at [pos, end) of r, through a
// window of the file's bytes.
type scanner struct {
	r      io.ReaderAt
	pos    int64
	end    int64
	win    []byte
	winOff int64
	shared bool             // win is the parent's: never read into it
	last   protowire.Number // the field next read the tag of
}

func newScanner(r io.ReaderAt, off, n int64) *scanner {
	return &scanner{r: r, pos: off, end: off + n}
}

// sub scans the message in field f, sharing the window when it holds it.
func (s *scanner) sub(f field) *scanner {
	c := newScanner(s.r, f.off, f.n)
	if f.off >= s.winOff && f.off+f.n <= s.winOff+int64(len(s.win)) {
		a := f.off - s.winOff
		c.win, c.winOff, c.shared = s.win[a:a+f.n:a+f.n], f.off, true
	}
	return c
}

// window makes the window cover at least the next 20 bytes (a tag and a
// varint) or the rest of the message.
func (s *scanner) window() ([]byte, error) {
	if s.pos < s.winOff || s.pos+min(20, s.end-s.pos) > s.winOff+int64(len(s.win)) {
		n := min(1<<16, s.end-s.pos)
		if s.shared || cap(s.win) < int(n) {
			s.win, s.shared = make([]byte, n), false
		}
		s.win = s.win[:n]
		if _, err := s.r.ReadAt(s.win, s.pos); err != nil && err != io.EOF {
			return nil, corrupt(s.pos, "reading: %v", err)
		}
		s.winOff = s.pos
	}
	return s.win[s.pos-s.winOff : min(int64(len(s.win)), s.end-s.winOff)], nil
}

// next returns the next field, or false at the message's end.
func (s *scanner) next() (field, bool, error) {
	if s.pos >= s.end {
		return field{}, false, nil
	}
	b, err := s.window()
	if err != nil {
		return field{}, false, err
	}
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, false, corrupt(s.pos, "bad field tag: %v", protowire.ParseError(n))
	}
	f := field{num: num, typ: typ}
	s.last = num
	at := s.pos
	b = b[n:]
	s.pos += int64(n)
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		f.v = uint64(v)
	case protowire.Fixed64Type:
		f.v, n = protowire.ConsumeFixed64(b)
	case protowire.BytesType:
		f.n, n = 0, 0
		var l uint64
		l, n = protowire.ConsumeVarint(b)
		if n >= 0 && l > uint64(s.end-s.pos-int64(n)) {
			return field{}, false, corrupt(at, "field %d of %d bytes runs past its message's end (%d bytes left)", num, l, s.end-s.pos-int64(n))
		}
		f.off, f.n = s.pos+int64(n), int64(l)
		s.pos += int64(l)
	default:
		return field{}, false, corrupt(at, "field %d has wire type %d (groups are not used by ONNX)", num, typ)
	}
	if n < 0 {
		return field{}, false, corrupt(at, "field %d: %v", num, protowire.ParseError(n))
	}
	s.pos += int64(n)
	return f, true, nil
}

// bytes reads a bytes field of at most limit bytes.
func (s *scanner) bytes(f field, limit int64) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, corrupt(f.off, "field %d is not a string or message", f.num)
	}
	if f.n > limit {
		return nil, formats.Errorf(name, f.off, formats.ErrTooLarge, "field %d of %d bytes (at most %d)", f.num, f.n, limit)
	}
	if f.off >= s.winOff && f.off+f.n <= s.winOff+int64(len(s.win)) {
		return s.win[f.off-s.winOff : f.off-s.winOff+f.n], nil
	}
	b := make([]byte, f.n)
	if _, err := s.r.ReadAt(b, f.off); err != nil && !(err == io.EOF && f.n == 0) {
		return nil, corrupt(f.off, "reading: %v", err)
	}
	return b, nil
}

func corrupt(off int64, msg string, args ...any) error {
	return formats.Errorf(name, off, formats.ErrCorrupt, msg, args...)
}
