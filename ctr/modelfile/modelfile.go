// Package modelfile saves the reference model as a .shark file and loads it
// back: each active field's embedding table (compressed or all fp32), the
// MLP's weights as dense tensors, and a "__model__" tensor holding the
// configuration, the pruning state and the feature encoding (msgpack), so
// that new data is encoded the way the model was trained.
package modelfile

import (
	"bytes"
	"fmt"
	"io"

	"github.com/vmihailenco/msgpack/v5"

	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/formats"
	"shark/formats/sharkfile"
	"shark/internal/atomicfile"
)

const metaName = "__model__"

type meta struct {
	Config   model.Config      `msgpack:"config"`
	Fields   []string          `msgpack:"fields"`
	Vocab    []int             `msgpack:"vocab"`
	Slots    []int             `msgpack:"slots"`
	Layers   [][2]int          `msgpack:"layers"` // in, out
	Encoding *dataset.Encoding `msgpack:"encoding"`
	Extra    map[string]any    `msgpack:"extra,omitempty"`
}

// TableName is the tensor name of field f's table.
func TableName(field string) string { return "emb." + field }

// Save writes m (tables with the given tiers, nil meaning all fp32) to path
// atomically. scores, if set, records each field's importance.
func Save(path string, m *model.Model, enc *dataset.Encoding, tiers map[int][]core.Tier, method *sharkfile.Method, prov map[string]string, scores map[string]map[string]float64) error {
	af, err := atomicfile.CreateAtomic(path)
	if err != nil {
		return err
	}
	if err := Write(af, m, enc, tiers, method, prov, scores); err != nil {
		af.Abort()
		return err
	}
	return af.Commit()
}

// Write streams the model file to w.
func Write(w io.Writer, m *model.Model, enc *dataset.Encoding, tiers map[int][]core.Tier, method *sharkfile.Method, prov map[string]string, scores map[string]map[string]float64) error {
	sw, err := sharkfile.NewWriter(w)
	if err != nil {
		return err
	}
	if method != nil {
		sw.SetMethod(*method)
	}
	sw.SetProvenance(prov)
	md := meta{Config: m.Cfg, Fields: m.Fields, Slots: m.Slots, Encoding: enc}
	for _, e := range m.Emb {
		if e != nil {
			md.Vocab = append(md.Vocab, e.Rows())
		} else {
			md.Vocab = append(md.Vocab, 0)
		}
	}
	for _, l := range m.Layers {
		md.Layers = append(md.Layers, [2]int{l.In, l.Out})
	}
	mb, err := msgpack.Marshal(&md)
	if err != nil {
		return err
	}
	if err := sw.WriteDense(metaName, formats.U8, []int64{int64(len(mb))}, bytes.NewReader(mb)); err != nil {
		return err
	}
	for _, f := range m.Slots {
		src := m.Emb[f]
		t := tiers[f]
		if t == nil {
			t = make([]core.Tier, src.Rows())
		}
		info := sharkfile.TableInfo{SourceDType: formats.F32, Scores: scores[m.Fields[f]]}
		if err := sw.WriteTable(TableName(m.Fields[f]), src, t, info, nil); err != nil {
			return err
		}
	}
	for i, l := range m.Layers {
		if err := sw.WriteDense(fmt.Sprintf("mlp.%d.W", i), formats.F32, []int64{int64(l.Out), int64(l.In)}, bytes.NewReader(formats.EncodeFloat32(nil, l.W))); err != nil {
			return err
		}
		if err := sw.WriteDense(fmt.Sprintf("mlp.%d.b", i), formats.F32, []int64{int64(l.Out)}, bytes.NewReader(formats.EncodeFloat32(nil, l.B))); err != nil {
			return err
		}
	}
	return sw.Close()
}

// Loaded is a model read from a file.
type Loaded struct {
	Model    *model.Model
	Encoding *dataset.Encoding
	File     *sharkfile.File
	// Compressed reports whether any table has a row below fp32; such tables
	// are read with dequantize-on-lookup straight from the file.
	Compressed bool
}

// Close releases the file.
func (l *Loaded) Close() error { return l.File.Close() }

// Load opens a model file. Tables whose rows are all fp32 are loaded into
// memory (trainable); compressed tables stay in the file, memory-mapped.
// With dense=true every table is read into float32 memory (dequantized).
func Load(path string, dense bool) (*Loaded, error) {
	f, err := sharkfile.Open(path)
	if err != nil {
		return nil, err
	}
	l, err := load(f, dense)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

func load(f *sharkfile.File, dense bool) (*Loaded, error) {
	_, r, err := f.Dense(metaName)
	if err != nil {
		return nil, fmt.Errorf("not a shark model file (%w); it may be a quantized weights file", err)
	}
	mb, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var md meta
	if err := msgpack.Unmarshal(mb, &md); err != nil {
		return nil, fmt.Errorf("model metadata: %w", err)
	}
	if err := md.Config.Validate(); err != nil {
		return nil, err
	}
	if len(md.Vocab) != len(md.Fields) || len(md.Layers) == 0 {
		return nil, fmt.Errorf("model metadata: %d fields, %d vocabularies, %d layers", len(md.Fields), len(md.Vocab), len(md.Layers))
	}
	m := &model.Model{Cfg: md.Config, Fields: md.Fields, Slots: md.Slots, Emb: make([]core.RowSource, len(md.Fields))}
	l := &Loaded{Model: m, Encoding: md.Encoding, File: f}
	for _, s := range md.Slots {
		if s < 0 || s >= len(md.Fields) {
			return nil, fmt.Errorf("model metadata: slot field %d", s)
		}
		t, err := f.Table(TableName(md.Fields[s]))
		if err != nil {
			return nil, err
		}
		if t.Dim() != md.Config.Dim || t.Rows() != md.Vocab[s] {
			return nil, fmt.Errorf("table %q is %d x %d, the model needs %d x %d", t.Name(), t.Rows(), t.Dim(), md.Vocab[s], md.Config.Dim)
		}
		c := t.Counts()
		if c[0] != int64(t.Rows()) {
			l.Compressed = true
		}
		if c[0] != int64(t.Rows()) && !dense {
			m.Emb[s] = t
			continue
		}
		tb := &core.Table{Name: md.Fields[s], R: t.Rows(), D: t.Dim(), Data: make([]float32, t.Rows()*t.Dim())}
		for r := 0; r < t.Rows(); r++ {
			if err := t.Row(r, tb.Data[r*tb.D:(r+1)*tb.D]); err != nil {
				return nil, err
			}
		}
		m.Emb[s] = tb
	}
	in := len(md.Slots) * md.Config.Dim
	for i, io2 := range md.Layers {
		if io2[0] != in || io2[1] < 1 {
			return nil, fmt.Errorf("layer %d is %d -> %d, expected input %d", i, io2[0], io2[1], in)
		}
		ly := &model.Layer{In: io2[0], Out: io2[1]}
		for _, p := range []struct {
			name string
			dst  *[]float32
			n    int
		}{{fmt.Sprintf("mlp.%d.W", i), &ly.W, io2[0] * io2[1]}, {fmt.Sprintf("mlp.%d.b", i), &ly.B, io2[1]}} {
			e, r, err := f.Dense(p.name)
			if err != nil {
				return nil, err
			}
			if formats.DType(e.DType) != formats.F32 || e.Data.Len != int64(4*p.n) {
				return nil, fmt.Errorf("tensor %q has the wrong type or size", p.name)
			}
			raw, err := io.ReadAll(r)
			if err != nil {
				return nil, err
			}
			*p.dst = formats.DecodeFloat32(nil, formats.F32, raw)
		}
		m.Layers = append(m.Layers, ly)
		in = io2[1]
	}
	if in != 1 {
		return nil, fmt.Errorf("the last layer has %d outputs, want 1", in)
	}
	return l, nil
}
