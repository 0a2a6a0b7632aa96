package compress

import (
	"errors"
	"io"

	"shark/formats"
	"shark/formats/sharkfile"
)

// sourceDType is the dtype table name had in the file it was compressed
// from, as the .shark records it; float32 when it records none.
func sourceDType(rd *sharkfile.Reader, name string) formats.DType {
	for i := range rd.Header.Tensors {
		if e := &rd.Header.Tensors[i]; e.Name == name && e.Kind == sharkfile.KindTable {
			if d := formats.DType(e.DType); d.IsFloat() {
				return d
			}
		}
	}
	return formats.F32
}

// castChunk is the float32 bytes a castReader converts at a time.
const castChunk = 64 << 10

// castReader turns a stream of little-endian float32 values into one of
// dtype to, each value rounded to the nearest that dtype holds.
type castReader struct {
	r    io.Reader
	to   formats.DType
	in   []byte
	vals []float32
	out  []byte // converted, not yet read
	err  error
}

func newCastReader(r io.Reader, to formats.DType) *castReader {
	return &castReader{r: r, to: to, in: make([]byte, castChunk)}
}

func (c *castReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		c.fill()
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// fill converts the next chunk; a stream ending inside a value is an error.
func (c *castReader) fill() {
	n, err := io.ReadFull(c.r, c.in)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && n%4 == 0:
		err = io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = io.ErrUnexpectedEOF
	}
	c.vals = formats.DecodeFloat32(c.vals[:0], formats.F32, c.in[:n-n%4])
	c.out, _ = formats.EncodeFloats(c.out[:0], c.to, c.vals)
	c.err = err
}
