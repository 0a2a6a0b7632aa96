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
	Training *dataset.Training `msgpack:"training,omitempty"`
	Extra    map[string]any    `msgpack:"extra,omitempty"`
}

// TableName is the tensor name of field f's table.
func TableName(field string) string { return "emb." + field }

// Record is what a model file keeps beside the model: how its tables were
// quantized (nil: not), where it came from, and each field's scores.
type Record struct {
	Training   *dataset.Training // the rows the model was trained on
	Method     *sharkfile.Method
	Provenance map[string]string
	Scores     map[string]map[string]float64
}

// Save writes m to path atomically.
func Save(path string, m *model.Model, enc *dataset.Encoding, rec Record, inputs ...string) error {
	af, err := atomicfile.Create(path, inputs...)
	if err != nil {
		return err
	}
	if err := Write(af, m, enc, rec); err != nil {
		af.Abort()
		return err
	}
	return af.Commit()
}

// Write streams the model file to w. A table compressed in memory
// (core.Mixed) is written as it is encoded, so that the file holds exactly
// the rows the model was evaluated with; any other table is stored at fp32.
func Write(w io.Writer, m *model.Model, enc *dataset.Encoding, rec Record) error {
	sw, err := sharkfile.NewWriterVersion(w, majorFor(m))
	if err != nil {
		return err
	}
	if rec.Method != nil {
		sw.SetMethod(*rec.Method)
	}
	sw.SetProvenance(rec.Provenance)
	md := metaOf(m, enc)
	md.Training = rec.Training
	mb, err := msgpack.Marshal(md)
	if err != nil {
		return err
	}
	if err := sw.WriteDense(metaName, formats.U8, []int64{int64(len(mb))}, bytes.NewReader(mb)); err != nil {
		return err
	}
	for _, f := range m.Slots {
		if err := writeTable(sw, TableName(m.Fields[f]), m.Emb[f], rec.Scores[m.Fields[f]]); err != nil {
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

// majorFor is the container version m's tables need: 2 when a compressed
// table's rows take a tier after int4, declared from the file's start,
// as w may be a stream.
func majorFor(m *model.Model) int {
	for _, f := range m.Slots {
		var counts [core.NumTiers]int64
		switch t := m.Emb[f].(type) {
		case *core.Mixed:
			counts = t.TierCounts()
		case *sharkfile.Table:
			counts = t.Counts()
		}
		for tr := core.DefaultTiers; tr < core.NumTiers; tr++ {
			if counts[tr] > 0 {
				return sharkfile.Major
			}
		}
	}
	return sharkfile.MajorNarrow
}

func metaOf(m *model.Model, enc *dataset.Encoding) *meta {
	md := &meta{Config: m.Cfg, Fields: m.Fields, Slots: m.Slots, Encoding: enc}
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
	return md
}

func writeTable(sw *sharkfile.Writer, name string, src core.RowSource, scores map[string]float64) error {
	info := sharkfile.TableInfo{SourceDType: formats.F32, Scores: scores}
	if mx, ok := src.(*core.Mixed); ok {
		var rows [core.NumTiers][]byte
		for t := range rows {
			rows[t] = mx.TierRows(core.Tier(t))
		}
		info.Params = mx.Params() // block-tier rows are codes under their block's parameters
		return sw.WriteEncodedTable(name, mx.D, mx.Tiers, rows, info)
	}
	if t, ok := src.(*sharkfile.Table); ok { // from a compressed model file: its rows as stored
		tiers := make([]core.Tier, t.Rows())
		for r := range tiers {
			tiers[r] = t.Tier(r)
		}
		var rows [core.NumTiers][]byte
		for tr := range rows {
			b, err := io.ReadAll(t.TierReader(core.Tier(tr)))
			if err != nil {
				return fmt.Errorf("table %q: %w", name, err)
			}
			rows[tr] = b
		}
		info.Params = t.BlockParams()
		return sw.WriteEncodedTable(name, t.Dim(), tiers, rows, info)
	}
	return sw.WriteTable(name, src, make([]core.Tier, src.Rows()), info, nil)
}

// Loaded is a model read from a file.
type Loaded struct {
	Model    *model.Model
	Encoding *dataset.Encoding
	// Training is the rows the model was trained on; nil in files written
	// before shark recorded it.
	Training *dataset.Training
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
	md, err := readMeta(f)
	if err != nil {
		return nil, err
	}
	m := &model.Model{Cfg: md.Config, Fields: md.Fields, Slots: md.Slots, Emb: make([]core.RowSource, len(md.Fields))}
	l := &Loaded{Model: m, Encoding: md.Encoding, Training: md.Training, File: f}
	for _, s := range md.Slots {
		if s < 0 || s >= len(md.Fields) {
			return nil, fmt.Errorf("model metadata: slot field %d", s)
		}
		if err := l.loadTable(md, s, dense); err != nil {
			return nil, err
		}
	}
	if m.Layers, err = loadLayers(f, md); err != nil {
		return nil, err
	}
	return l, nil
}

// readMeta reads and checks the model's metadata tensor.
func readMeta(f *sharkfile.File) (*meta, error) {
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
	if err := md.Training.Check(); err != nil {
		return nil, fmt.Errorf("model metadata: %w", err)
	}
	if len(md.Vocab) != len(md.Fields) || len(md.Layers) == 0 {
		return nil, fmt.Errorf("model metadata: %d fields, %d vocabularies, %d layers", len(md.Fields), len(md.Vocab), len(md.Layers))
	}
	return &md, nil
}

// loadTable sets field s's table: read from the file on lookup when it is
// compressed (unless dense), else into float32 memory.
func (l *Loaded) loadTable(md *meta, s int, dense bool) error {
	t, err := l.File.Table(TableName(md.Fields[s]))
	if err != nil {
		return err
	}
	if t.Dim() != md.Config.Dim || t.Rows() != md.Vocab[s] {
		return fmt.Errorf("table %q is %d x %d, the model needs %d x %d", t.Name(), t.Rows(), t.Dim(), md.Vocab[s], md.Config.Dim)
	}
	compressed := t.Counts()[core.FP32] != int64(t.Rows())
	l.Compressed = l.Compressed || compressed
	if compressed && !dense {
		l.Model.Emb[s] = t
		return nil
	}
	tb := &core.Table{Name: md.Fields[s], R: t.Rows(), D: t.Dim(), Data: make([]float32, t.Rows()*t.Dim())}
	for r := 0; r < t.Rows(); r++ {
		if err := t.Row(r, tb.Data[r*tb.D:(r+1)*tb.D]); err != nil {
			return err
		}
	}
	l.Model.Emb[s] = tb
	return nil
}

// loadLayers reads the MLP's weights, checking each layer's shape.
func loadLayers(f *sharkfile.File, md *meta) ([]*model.Layer, error) {
	var layers []*model.Layer
	in := len(md.Slots) * md.Config.Dim
	for i, shape := range md.Layers {
		if shape[0] != in || shape[1] < 1 {
			return nil, fmt.Errorf("layer %d is %d -> %d, expected input %d", i, shape[0], shape[1], in)
		}
		ly := &model.Layer{In: shape[0], Out: shape[1]}
		var err error
		if ly.W, err = readF32(f, fmt.Sprintf("mlp.%d.W", i), shape[0]*shape[1]); err != nil {
			return nil, err
		}
		if ly.B, err = readF32(f, fmt.Sprintf("mlp.%d.b", i), shape[1]); err != nil {
			return nil, err
		}
		layers = append(layers, ly)
		in = shape[1]
	}
	if in != 1 {
		return nil, fmt.Errorf("the last layer has %d outputs, want 1", in)
	}
	return layers, nil
}

// readF32 reads a dense float32 tensor of n values.
func readF32(f *sharkfile.File, name string, n int) ([]float32, error) {
	e, r, err := f.Dense(name)
	if err != nil {
		return nil, err
	}
	if formats.DType(e.DType) != formats.F32 || e.Data.Len != int64(4*n) {
		return nil, fmt.Errorf("tensor %q has the wrong type or size", name)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return formats.DecodeFloat32(nil, formats.F32, raw), nil
}
