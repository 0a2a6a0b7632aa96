package sharkfile

import (
	"bytes"
	"io"

	"shark/formats"
)

// The .shark format, registered with formats: sniffed by its magic.
func init() {
	formats.Register(formats.Format{
		Name:  name,
		Match: func(h []byte) bool { return bytes.HasPrefix(h, []byte(Magic)) },
		Open: func(src formats.Source) (*formats.File, error) {
			rd, err := NewReader(src.R, src.Size)
			if err != nil {
				return nil, err
			}
			return rd.File(), nil
		},
	})
}

// A parts manifest, opened through formats: its parts are read through
// the files beside it (formats.Source's Siblings).
func init() {
	formats.Register(formats.Format{
		Name:  "shark-parts",
		Match: isManifest,
		Open: func(src formats.Source) (*formats.File, error) {
			m, err := ReadManifest(src.R, src.Size)
			if err != nil {
				return nil, err
			}
			if src.Siblings == nil {
				return nil, formats.Errorf(name, -1, formats.ErrUnsupported, "a parts manifest opened alone: open it from its folder, where its parts are")
			}
			rd, err := NewPartsReader(m, src.Siblings.Open)
			if err != nil {
				return nil, err
			}
			return rd.File(), nil
		},
	})
}

// tableReader streams a table dequantized to little-endian float32.
type tableReader struct {
	t   *Table
	r   int
	row []float32
	buf []byte
}

func (tr *tableReader) Read(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(tr.buf) == 0 {
			if tr.r >= tr.t.rows {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			if err := tr.t.Row(tr.r, tr.row); err != nil {
				return n, err
			}
			tr.r++
			tr.buf = formats.EncodeFloat32(tr.buf[:0], tr.row)
		}
		c := copy(p, tr.buf)
		p, tr.buf, n = p[c:], tr.buf[c:], n+c
	}
	return n, nil
}

// FromFile returns the reader behind a .shark file opened by formats.
func FromFile(f *formats.File) (*Reader, bool) {
	rd, ok := f.Reader.(*Reader)
	return rd, ok
}

// File describes the container as a formats.File: dense tensors as stored,
// compressed tables as float32 read back dequantized.
func (rd *Reader) File() *formats.File {
	f := &formats.File{Meta: rd.Header.Provenance, Reader: rd, Structure: rd.structure}
	for i := range rd.Header.Tensors {
		e := &rd.Header.Tensors[i]
		if e.Kind == KindAlias {
			f.Tensors = append(f.Tensors, aliasTensor(e, f))
			continue
		}
		if e.Kind == KindDense {
			d := formats.DType(e.DType)
			t := formats.NewTensorStream(e.Name, d, e.Shape, e.Data.Len, func() (io.ReadCloser, error) {
				return io.NopCloser(&blockReader{rd: rd, b: e.Data}), nil
			})
			t.OptimizerState = e.Extra[ExtraRole] == RoleOptimizerState
			f.Tensors = append(f.Tensors, t)
			continue
		}
		t := rd.tables[e.Name]
		var tiers [8]int64 // formats.Tensor's, every tier's
		c := t.Counts()
		copy(tiers[:], c[:])
		ft := formats.NewTensorStream(e.Name, formats.F32, e.Shape, e.Shape[0]*e.Shape[1]*4, func() (io.ReadCloser, error) {
			return io.NopCloser(&tableReader{t: t, row: make([]float32, t.dim)}), nil
		})
		ft.Tiers = &tiers
		f.Tensors = append(f.Tensors, ft)
	}
	return f
}
