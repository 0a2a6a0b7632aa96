// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header mapping names to dtype, shape
// and data offsets (plus an optional "__metadata__" of strings), then the data.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"shark/formats"
)

const name = "safetensors"

// MaxHeader is the header size limit of the reference implementation.
const MaxHeader = 100 << 20

func init() {
	formats.Register(formats.Format{
		Name: name,
		Match: func(h []byte) bool {
			if len(h) < 10 {
				return false
			}
			n := binary.LittleEndian.Uint64(h)
			return n >= 2 && n <= MaxHeader && h[8] == '{'
		},
		Open: func(src formats.Source) (*formats.File, error) { return Open(src.R, src.Size) },
	})
}

type entry struct {
	DType   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Open parses the header and checks every tensor against the file: known
// dtype, size equal to its shape, inside the data area, no two overlapping.
func Open(r io.ReaderAt, size int64) (*formats.File, error) {
	var pre [8]byte
	if _, err := r.ReadAt(pre[:], 0); err != nil {
		return nil, formats.Errorf(name, 0, formats.ErrCorrupt, "reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > MaxHeader || int64(n) > size-8 {
		return nil, formats.Errorf(name, 0, formats.ErrTooLarge, "header length %d does not fit in a file of %d bytes (limit %d)", n, size, MaxHeader)
	}
	hb := make([]byte, n)
	if _, err := r.ReadAt(hb, 8); err != nil && !(err == io.EOF && int64(len(hb)) == int64(n)) {
		return nil, formats.Errorf(name, 8, formats.ErrCorrupt, "reading header: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, formats.Errorf(name, 8, formats.ErrCorrupt, "header is not a JSON object: %v", err)
	}
	base := 8 + int64(n)
	dataSize := size - base
	f := &formats.File{}
	type span struct {
		b, e int64
		name string
	}
	var spans []span
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &f.Meta); err != nil {
				return nil, formats.Errorf(name, 8, formats.ErrCorrupt, "__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e entry
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, &formats.Error{Format: name, Offset: 8, Tensor: k, Msg: fmt.Sprintf("bad entry: %v", err), Err: formats.ErrCorrupt}
		}
		d := formats.DType(e.DType)
		if d.Size() == 0 {
			return nil, &formats.Error{Format: name, Offset: 8, Tensor: k, Msg: fmt.Sprintf("dtype %q (shark reads F32, F16, BF16, F64, I8, U8, BOOL, I16, I32, I64)", e.DType), Err: formats.ErrUnsupported}
		}
		_, nb, err := formats.ShapeBytes(e.Shape, d)
		if err != nil {
			return nil, &formats.Error{Format: name, Offset: 8, Tensor: k, Msg: err.Error(), Err: formats.ErrTooLarge}
		}
		b, end := e.Offsets[0], e.Offsets[1]
		if b < 0 || end < b || end > dataSize {
			return nil, &formats.Error{Format: name, Offset: base + b, Tensor: k, Msg: fmt.Sprintf("data_offsets [%d, %d] outside the data area of %d bytes", b, end, dataSize), Err: formats.ErrCorrupt}
		}
		if end-b != nb {
			return nil, &formats.Error{Format: name, Offset: base + b, Tensor: k, Msg: fmt.Sprintf("data_offsets span %d bytes, shape %v of %s needs %d", end-b, e.Shape, d, nb), Err: formats.ErrCorrupt}
		}
		if end > b { // an empty tensor shares its offset with its neighbour
			spans = append(spans, span{b, end, k})
		}
		f.Tensors = append(f.Tensors, formats.NewTensorAt(k, d, e.Shape, nb, r, base+b))
	}
	sort.Slice(spans, func(i, j int) bool {
		return spans[i].b < spans[j].b || (spans[i].b == spans[j].b && spans[i].name < spans[j].name)
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].b < spans[i-1].e {
			return nil, &formats.Error{Format: name, Offset: base + spans[i].b, Tensor: spans[i].name, Msg: fmt.Sprintf("data overlaps tensor %q", spans[i-1].name), Err: formats.ErrCorrupt}
		}
	}
	// File order, so that listings match what the writer put down.
	sort.SliceStable(f.Tensors, func(i, j int) bool {
		_, a, _ := f.Tensors[i].ReaderAt()
		_, b, _ := f.Tensors[j].ReaderAt()
		return a < b
	})
	return f, nil
}

// Spec is one tensor to write.
type Spec struct {
	Name  string
	DType formats.DType
	Shape []int64
	Data  func() (io.Reader, error) // exactly the shape's bytes, little-endian
}

// Write writes tensors in the given order with metadata (may be nil). The
// header is padded with spaces to a multiple of 8 bytes, as the reference
// implementation does, so that the data is aligned.
func Write(w io.Writer, specs []Spec, meta map[string]string) error {
	hdr := map[string]any{}
	if len(meta) > 0 {
		hdr["__metadata__"] = meta
	}
	var off int64
	sizes := make([]int64, len(specs))
	for i, s := range specs {
		if s.Name == "__metadata__" {
			return fmt.Errorf("safetensors: a tensor cannot be named __metadata__")
		}
		if _, dup := hdr[s.Name]; dup {
			return fmt.Errorf("safetensors: tensor %q given twice", s.Name)
		}
		_, nb, err := formats.ShapeBytes(s.Shape, s.DType)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", s.Name, err)
		}
		shape := s.Shape
		if shape == nil {
			shape = []int64{}
		}
		hdr[s.Name] = entry{DType: string(s.DType), Shape: shape, Offsets: [2]int64{off, off + nb}}
		sizes[i] = nb
		off += nb
	}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	if pad := (8 - len(hb)%8) % 8; pad > 0 {
		hb = append(hb, bytes.Repeat([]byte{' '}, pad)...)
	}
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(len(hb)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for i, s := range specs {
		rd, err := s.Data()
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", s.Name, err)
		}
		if n, err := io.CopyN(w, rd, sizes[i]); err != nil {
			return fmt.Errorf("safetensors: tensor %q: wrote %d of %d bytes: %w", s.Name, n, sizes[i], err)
		}
		if c, ok := rd.(io.Closer); ok {
			c.Close()
		}
	}
	return nil
}
