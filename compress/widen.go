package compress

import (
	"encoding/binary"
	"io"
	"math"

	"shark/core/kernels"
)

// widenReader turns int8 rows in FBGEMM's fused layout (D codes, fp16
// scale, fp16 bias) into embedding_bag_byte_prepack's (D codes, fp32
// scale, fp32 bias). Every fp16 value is exactly a float32, so the rows
// dequantize to the same numbers.
type widenReader struct {
	src io.Reader
	dim int
	in  []byte // whole input rows
	buf []byte // their conversion
	out []byte // what of buf is not yet read
}

func newWidenReader(src io.Reader, dim int) *widenReader {
	rows := max(1, (1<<16)/(dim+4))
	return &widenReader{src: src, dim: dim, in: make([]byte, rows*(dim+4))}
}

func (w *widenReader) Read(p []byte) (int, error) {
	if len(w.out) == 0 {
		n, err := io.ReadFull(w.src, w.in)
		if n == 0 {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return 0, err
		}
		if n%(w.dim+4) != 0 {
			return 0, io.ErrUnexpectedEOF
		}
		w.buf = w.widen(w.in[:n], w.buf[:0])
		w.out = w.buf
	}
	n := copy(p, w.out)
	w.out = w.out[n:]
	return n, nil
}

// widen appends the conversion of whole rows in to out.
func (w *widenReader) widen(in, out []byte) []byte {
	rb := w.dim + 4
	for r := 0; r < len(in); r += rb {
		row := in[r : r+rb]
		out = append(out, row[:w.dim]...)
		for _, h := range []uint16{binary.LittleEndian.Uint16(row[w.dim:]), binary.LittleEndian.Uint16(row[w.dim+2:])} {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(kernels.HalfToFloat(h)))
		}
	}
	return out
}
