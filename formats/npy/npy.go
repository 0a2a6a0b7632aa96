// Package npy reads and writes NumPy's .npy format (versions 1.0, 2.0, 3.0):
// reading float32, float16, float64, int8, uint8, int32, int64 in either byte
// order, C order only; writing little-endian arrays of any formats.DType that
// NumPy has (bfloat16 is not one).
package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"shark/formats"
)

// Magic starts every .npy file.
const Magic = "\x93NUMPY"

const name = "npy"

// maxHeader bounds the header dictionary NumPy writes (a few hundred bytes
// for plain arrays); a larger one is refused before it is read.
const maxHeader = 1 << 20

func init() {
	formats.Register(formats.Format{
		Name:  name,
		Match: func(h []byte) bool { return bytes.HasPrefix(h, []byte(Magic)) },
		Open: func(src formats.Source) (*formats.File, error) {
			h, err := ReadHeader(src.R, src.Size)
			if err != nil {
				return nil, err
			}
			t := h.Tensor("array", src.R, 0)
			return &formats.File{Tensors: []*formats.Tensor{t}}, nil
		},
	})
}

// Header is a parsed .npy header.
type Header struct {
	DType     formats.DType
	BigEndian bool
	Shape     []int64
	DataOff   int64 // offset of the data from the start of the .npy
	Bytes     int64 // data size
}

// Tensor describes the array as a formats.Tensor; base is the offset of the
// .npy inside r.
func (h *Header) Tensor(name string, r io.ReaderAt, base int64) *formats.Tensor {
	if !h.BigEndian || h.DType.Size() == 1 {
		return formats.NewTensorAt(name, h.DType, h.Shape, h.Bytes, r, base+h.DataOff)
	}
	sec := io.NewSectionReader(r, base+h.DataOff, h.Bytes)
	size := h.DType.Size()
	return formats.NewTensorStream(name, h.DType, h.Shape, h.Bytes, func() (io.ReadCloser, error) {
		sec.Seek(0, io.SeekStart)
		return io.NopCloser(&swapReader{r: sec, size: size}), nil
	})
}

// ReadHeader parses the header of a .npy of size bytes readable through r,
// checking that the declared data fits in the file.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	var pre [12]byte
	n, err := r.ReadAt(pre[:], 0)
	if n < 10 {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, formats.Errorf(name, 0, formats.ErrCorrupt, "file too short for a .npy preamble: %v", err)
	}
	return parse(pre[:n], size, func(off, n int64) ([]byte, error) {
		b := make([]byte, n)
		_, err := r.ReadAt(b, off)
		if err == io.EOF && int64(len(b)) == n {
			err = nil
		}
		return b, err
	})
}

// ReadHeaderStream parses a header from a stream (a deflated .npz member)
// whose total size is size; the stream is left at the start of the data.
func ReadHeaderStream(rd io.Reader, size int64) (*Header, error) {
	var pre [12]byte
	if _, err := io.ReadFull(rd, pre[:10]); err != nil {
		return nil, formats.Errorf(name, 0, formats.ErrCorrupt, "reading preamble: %v", err)
	}
	p := pre[:10]
	if pre[6] >= 2 {
		if _, err := io.ReadFull(rd, pre[10:12]); err != nil {
			return nil, formats.Errorf(name, 10, formats.ErrCorrupt, "reading preamble: %v", err)
		}
		p = pre[:12]
	}
	return parse(p, size, func(off, n int64) ([]byte, error) {
		b := make([]byte, n)
		_, err := io.ReadFull(rd, b)
		return b, err
	})
}

func parse(pre []byte, size int64, read func(off, n int64) ([]byte, error)) (*Header, error) {
	if !bytes.HasPrefix(pre, []byte(Magic)) {
		return nil, formats.Errorf(name, 0, formats.ErrCorrupt, "missing \\x93NUMPY magic")
	}
	major := pre[6]
	var hlen, hoff int64
	switch major {
	case 1:
		hlen, hoff = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if len(pre) < 12 {
			return nil, formats.Errorf(name, 8, formats.ErrCorrupt, "file too short for a version %d preamble", major)
		}
		hlen, hoff = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return nil, formats.Errorf(name, 6, formats.ErrUnsupported, "format version %d.%d", major, pre[7])
	}
	if hlen > maxHeader || hoff+hlen > size {
		return nil, formats.Errorf(name, 8, formats.ErrTooLarge, "header of %d bytes does not fit in a file of %d bytes (limit %d)", hlen, size, maxHeader)
	}
	hb, err := read(hoff, hlen)
	if err != nil {
		return nil, formats.Errorf(name, hoff, formats.ErrCorrupt, "reading header: %v", err)
	}
	h, err := parseDict(string(hb))
	if err != nil {
		return nil, formats.Errorf(name, hoff, formats.ErrCorrupt, "header %q: %v", strings.TrimSpace(string(hb)), err)
	}
	h.DataOff = hoff + hlen
	_, nb, err := formats.ShapeBytes(h.Shape, h.DType)
	if err != nil {
		return nil, formats.Errorf(name, hoff, formats.ErrTooLarge, "%v", err)
	}
	if nb > size-h.DataOff {
		return nil, formats.Errorf(name, h.DataOff, formats.ErrTooLarge, "shape %v of %s needs %d bytes, the file has %d after the header", h.Shape, h.DType, nb, size-h.DataOff)
	}
	h.Bytes = nb
	return h, nil
}

// parseDict reads the Python literal NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (6040, 32), }
func parseDict(s string) (*Header, error) {
	p := &lit{s: s}
	p.ws()
	if !p.eat('{') {
		return nil, fmt.Errorf("expected '{'")
	}
	h := &Header{}
	var seen [3]bool
	for {
		p.ws()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(':') {
			return nil, fmt.Errorf("expected ':' after %q", key)
		}
		p.ws()
		switch key {
		case "descr":
			d, err := p.str()
			if err != nil {
				return nil, err
			}
			if h.DType, h.BigEndian, err = parseDescr(d); err != nil {
				return nil, err
			}
			seen[0] = true
		case "fortran_order":
			switch {
			case p.word("False"):
			case p.word("True"):
				return nil, fmt.Errorf("%w: Fortran-order arrays (save with np.ascontiguousarray)", formats.ErrUnsupported)
			default:
				return nil, fmt.Errorf("fortran_order is not True or False")
			}
			seen[1] = true
		case "shape":
			if h.Shape, err = p.tuple(); err != nil {
				return nil, err
			}
			seen[2] = true
		default:
			return nil, fmt.Errorf("unexpected key %q", key)
		}
		p.ws()
		if !p.eat(',') {
			p.ws()
			if !p.eat('}') {
				return nil, fmt.Errorf("expected ',' or '}' at %d", p.i)
			}
			break
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return nil, fmt.Errorf("header lacks one of descr, fortran_order, shape")
	}
	return h, nil
}

func parseDescr(d string) (formats.DType, bool, error) {
	if len(d) < 2 {
		return "", false, fmt.Errorf("bad descr %q", d)
	}
	order, code := d[0], d[1:]
	var dt formats.DType
	switch code {
	case "f4":
		dt = formats.F32
	case "f2":
		dt = formats.F16
	case "f8":
		dt = formats.F64
	case "i1":
		dt = formats.I8
	case "u1":
		dt = formats.U8
	case "b1":
		dt = formats.BOOL
	case "i2":
		dt = formats.I16
	case "i4":
		dt = formats.I32
	case "i8":
		dt = formats.I64
	default:
		return "", false, fmt.Errorf("%w: dtype %q (shark reads f4, f2, f8, i1, u1, b1, i2, i4, i8)", formats.ErrUnsupported, d)
	}
	switch order {
	case '<', '|', '=':
		return dt, false, nil
	case '>':
		return dt, true, nil
	}
	return "", false, fmt.Errorf("bad byte order in descr %q", d)
}

type lit struct {
	s string
	i int
}

func (p *lit) ws() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *lit) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *lit) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *lit) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("expected a string at %d", p.i)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *lit) tuple() ([]int64, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("expected a shape tuple at %d", p.i)
	}
	shape := []int64{}
	for {
		p.ws()
		if p.eat(')') {
			return shape, nil
		}
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad dimension at %d", p.i)
		}
		if len(shape) >= 32 {
			return nil, fmt.Errorf("more than 32 dimensions")
		}
		shape = append(shape, v)
		p.i = j
		p.eat('L') // Python 2 longs
		p.ws()
		if !p.eat(',') {
			p.ws()
			if !p.eat(')') {
				return nil, fmt.Errorf("expected ',' or ')' in shape at %d", p.i)
			}
			return shape, nil
		}
	}
}

// swapReader reverses the bytes of each size-byte element of a big-endian
// stream so that readers see little-endian data.
type swapReader struct {
	r    io.Reader
	size int
	buf  []byte
}

func (s *swapReader) Read(p []byte) (int, error) {
	n := len(p) - len(p)%s.size
	if n == 0 {
		if len(s.buf) == 0 {
			s.buf = make([]byte, s.size)
			if _, err := io.ReadFull(s.r, s.buf); err != nil {
				return 0, err
			}
			for i, j := 0, s.size-1; i < j; i, j = i+1, j-1 {
				s.buf[i], s.buf[j] = s.buf[j], s.buf[i]
			}
		}
		c := copy(p, s.buf)
		s.buf = s.buf[c:]
		return c, nil
	}
	got, err := io.ReadFull(s.r, p[:n])
	got -= got % s.size
	for e := 0; e < got; e += s.size {
		for i, j := e, e+s.size-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
	}
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return got, err
}

// HeaderBytes returns the preamble and header for a little-endian C-order
// array, padded so that the data starts on a 64-byte boundary as NumPy does.
func HeaderBytes(d formats.DType, shape []int64) ([]byte, error) {
	var descr string
	switch d {
	case formats.F32:
		descr = "<f4"
	case formats.F16:
		descr = "<f2"
	case formats.F64:
		descr = "<f8"
	case formats.I8:
		descr = "|i1"
	case formats.U8:
		descr = "|u1"
	case formats.BOOL:
		descr = "|b1"
	case formats.I16:
		descr = "<i2"
	case formats.I32:
		descr = "<i4"
	case formats.I64:
		descr = "<i8"
	default:
		return nil, fmt.Errorf("%w: NumPy has no dtype for %s", formats.ErrUnsupported, d)
	}
	var sb strings.Builder
	sb.WriteString("(")
	for i, s := range shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatInt(s, 10))
	}
	if len(shape) == 1 {
		sb.WriteString(",")
	}
	sb.WriteString(")")
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sb.String())
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	hlen := len(dict) + pad + 1
	if hlen > 65535 {
		return nil, fmt.Errorf("%w: header too long for .npy 1.0", formats.ErrUnsupported)
	}
	out := make([]byte, 0, 10+hlen)
	out = append(out, Magic...)
	out = append(out, 1, 0, byte(hlen), byte(hlen>>8))
	out = append(out, dict...)
	out = append(out, bytes.Repeat([]byte{' '}, pad)...)
	out = append(out, '\n')
	return out, nil
}

// Write writes a .npy of dtype d and shape, copying exactly the shape's
// byte count of little-endian data from data.
func Write(w io.Writer, d formats.DType, shape []int64, data io.Reader) error {
	hdr, err := HeaderBytes(d, shape)
	if err != nil {
		return err
	}
	_, nb, err := formats.ShapeBytes(shape, d)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	n, err := io.CopyN(w, data, nb)
	if err != nil {
		return fmt.Errorf("npy: wrote %d of %d data bytes: %w", n, nb, err)
	}
	return nil
}
