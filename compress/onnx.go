package compress

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"shark/core"
	"shark/formats"
	"shark/formats/onnx"
	"shark/formats/sharkfile"
	"shark/internal/atomicfile"
)

// onnxTables are the container's compressed tables as ONNX quantized
// lookups, each giving rows in its source's dtype, as the dequantized
// export writes them. A name tied to a table (SameAs) gets no lookup of
// its own.
func onnxTables(rd *sharkfile.Reader) ([]onnx.Table, error) {
	var out []onnx.Table
	for _, t := range rd.File().Tensors {
		if t.Tiers == nil || t.SameAs != "" {
			continue
		}
		tbl, err := rd.Table(t.Name)
		if err != nil {
			return nil, err
		}
		ot := onnx.Table{Name: t.Name, Rows: int64(tbl.Rows()), Dim: tbl.Dim(), DType: sourceDType(rd, t.Name),
			Counts: tbl.Counts(), Index: func() (io.Reader, error) { return &indexReader{t: tbl}, nil }}
		for tier := core.Tier(0); tier < core.NumTiers; tier++ {
			ot.Tiers[tier] = func() (io.Reader, error) { return tbl.TierReader(tier), nil }
		}
		if err := onnxParams(&ot, tbl); err != nil {
			return nil, err
		}
		out = append(out, ot)
	}
	return out, nil
}

// onnxParams gives ot the block parameters of tbl's block tiers, as the
// table stores them, when rows take them.
func onnxParams(ot *onnx.Table, tbl *sharkfile.Table) error {
	c := tbl.Counts()
	if c[core.INT8B]+c[core.INT4B]+c[core.INT2B] == 0 {
		return nil
	}
	bp := tbl.BlockParams()
	if bp == nil { // a table stored as parts keeps its parameters in each part
		return fmt.Errorf("%w: table %q holds block-tier rows in parts, each with its own block parameters (export --layout torch or dequantized)", ErrONNXTiers, tbl.Name())
	}
	ot.Block = bp.Block
	ot.Params = func() (io.Reader, error) {
		b := make([]byte, 0, 2*len(bp.Params))
		for _, v := range bp.Params {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		return bytes.NewReader(b), nil
	}
	return nil
}

// indexReader streams a table's ONNX lookup index: per row, an int32 of
// its tier's start (the rows of the tiers before it) plus its rank in
// its tier.
type indexReader struct {
	t     *sharkfile.Table
	r     int
	start [core.NumTiers]int64
	rank  [core.NumTiers]int64
	buf   []byte
}

func (x *indexReader) Read(p []byte) (int, error) {
	if len(x.buf) == 0 {
		if x.r >= x.t.Rows() {
			return 0, io.EOF
		}
		if x.r == 0 {
			c := x.t.Counts()
			for i := 1; i < core.NumTiers; i++ {
				x.start[i] = x.start[i-1] + c[i-1]
			}
		}
		b := make([]byte, 0, 4<<12)
		for end := min(x.t.Rows(), x.r+4<<10); x.r < end; x.r++ {
			tier := x.t.Tier(x.r)
			b = binary.LittleEndian.AppendUint32(b, uint32(x.start[tier]+x.rank[tier]))
			x.rank[tier]++
		}
		x.buf = b
	}
	n := copy(p, x.buf)
	x.buf = x.buf[n:]
	return n, nil
}

// ONNXModel is the .shark file's tables as an ONNX model: with graph (an
// opened .onnx, the model the .shark file was made from), that graph with
// each table's Gather nodes replaced by quantized lookups; without, the
// lookups alone. opt.DataName is the external data file's name beside the
// model, used when the model passes 2 GiB (or opt.ExternalAbove); without
// one such a model is refused.
func ONNXModel(rd *sharkfile.Reader, graph *Input, opt onnx.Options) (*onnx.Model, error) {
	tables, err := onnxTables(rd)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("%w: no compressed table to look up: an ONNX export writes a .shark file's compressed tables", core.ErrInvalid)
	}
	if graph == nil {
		return onnx.Lookups(tables, opt)
	}
	if graph.File.Format != "onnx" {
		return nil, fmt.Errorf("%w: the graph %s is %s, not an ONNX model", core.ErrInvalid, graph.Name, graph.File.Format)
	}
	if err := checkGraphTables(rd, graph.File, tables); err != nil {
		return nil, err
	}
	return onnx.Replace(graph.ReaderAt, graph.File.Size, graph.File, tables, opt)
}

// ErrOtherGraph: a table of the graph given for an ONNX export holds
// other values than the .shark file's table compressed.
var ErrOtherGraph = errors.New("the graph's tables are not the .shark file's")

// ErrONNXTiers: a table holds rows the ONNX lookup has no tensors for
// (block-tier rows in a table stored as parts, whose parts each keep
// their own block parameters).
var ErrONNXTiers = errors.New("block parameters the ONNX lookup does not take")

// checkGraphTables refuses a graph whose tables are not those the .shark
// file compressed: each value must be within the table's largest error
// (recorded at write time) of shark's dequantized row. Checks the graph
// fails anyway (no such table, another shape, an exported graph) are
// left to onnx.Replace, which words them.
func checkGraphTables(rd *sharkfile.Reader, f *formats.File, tables []onnx.Table) error {
	if err := onnx.NotExported(f); err != nil {
		return err
	}
	for _, t := range tables {
		gt, err := f.Tensor(t.Name)
		if err != nil || !slices.Equal(gt.Shape, []int64{t.Rows, int64(t.Dim)}) || gt.DType != t.DType {
			continue
		}
		tbl, err := rd.Table(t.Name)
		if err != nil {
			return err
		}
		if err := sameTable(f, gt, tbl); err != nil {
			return err
		}
	}
	return nil
}

// sameTable compares a graph's table with the compressed one, a chunk of
// rows at a time. A table without recorded stats (none written) is taken
// as it is.
func sameTable(f *formats.File, gt *formats.Tensor, tbl *sharkfile.Table) error {
	st := tbl.Entry().Stats
	if st == nil {
		return nil
	}
	src, err := Rows(f, gt)
	if err != nil {
		return err
	}
	dim, rows := tbl.Dim(), tbl.Rows()
	n := max(1, min(rows, (1<<20)/dim))
	a, b := make([]float32, n*dim), make([]float32, n*dim)
	for lo := 0; lo < rows; lo += n {
		hi := min(rows, lo+n)
		if err := core.ReadRows(src, lo, hi, a); err != nil {
			return fmt.Errorf("the graph's %q: %w", gt.Name, err)
		}
		if err := core.ReadRows(tbl, lo, hi, b); err != nil {
			return err
		}
		if i := firstApart(a[:(hi-lo)*dim], b, st.MaxAbsErr); i >= 0 {
			return fmt.Errorf("%w: %q row %d, column %d is %g in the graph, %g in the .shark file, further apart than the table's largest error, %.3g: is it the model the .shark file was made from?",
				ErrOtherGraph, gt.Name, lo+i/dim, i%dim, a[i], b[i], st.MaxAbsErr)
		}
	}
	return nil
}

// firstApart is the first index where a and b differ by more than
// maxErr, or -1. The slack, a millionth of the values, is the rounding by
// which a row decoded here may differ from the one measured at write time.
func firstApart(a, b []float32, maxErr float64) int {
	for i, x := range a {
		d := math.Abs(float64(x) - float64(b[i]))
		if !(d <= maxErr+1e-6*(math.Abs(float64(x))+maxErr)) {
			return i
		}
	}
	return -1
}

// exportONNX writes the lookups-only model through one writer, as the page
// gets it: a model that needs its data in a file beside it is refused.
func exportONNX(rd *sharkfile.Reader, w io.Writer) error {
	md, err := ONNXModel(rd, nil, onnx.Options{}) // no data file: refused past 2 GiB
	if err != nil {
		return err
	}
	return md.Write(w)
}

// exportONNXFile is ExportFileContext's ONNX export: with the .onnx the
// .shark file was made from when it is beside it (ONNXBeside), else the
// lookups alone.
func exportONNXFile(ctx context.Context, in *Input, path string, inputs []string) error {
	var graph *Input
	if p := ONNXBeside(in); p != "" {
		g, err := Open(p)
		if err != nil {
			return err
		}
		defer g.Close()
		graph = g
	}
	return ExportONNXFile(ctx, in, graph, path, onnx.Options{}, inputs...)
}

// ONNXBeside is the .onnx file the .shark input records as its source
// when it is a regular file beside the input, or "".
func ONNXBeside(in *Input) string {
	rd, ok := in.Shark()
	if !ok || in.Path == "" {
		return ""
	}
	name := ONNXSourceName(rd)
	if name == "" {
		return ""
	}
	p := filepath.Join(filepath.Dir(in.Path), name)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	return ""
}

// ONNXExpected is where ONNXBeside looks for the .onnx file the .shark
// input records as its source, found there or not, or "" when it records
// none.
func ONNXExpected(in *Input) string {
	rd, ok := in.Shark()
	if !ok || in.Path == "" {
		return ""
	}
	if name := ONNXSourceName(rd); name != "" {
		return filepath.Join(filepath.Dir(in.Path), name)
	}
	return ""
}

// ONNXOpsetWarning is a warning for an ONNX input whose graph imports an
// opset before onnx.MinOpset: its tables compress, but export --to onnx
// cannot write its graph with them as quantized lookups. "" otherwise.
func ONNXOpsetWarning(in *Input) string {
	if in.File.Format != "onnx" || in.ReaderAt == nil {
		return ""
	}
	v, err := onnx.DefaultOpset(in.ReaderAt, in.File.Size)
	if err != nil || v >= onnx.MinOpset {
		return ""
	}
	return fmt.Sprintf("%s imports opset %d: its tables compress, but export --to onnx will need opset %d or later to write the graph with them as quantized lookups (re-export it with torch.onnx.export(..., opset_version=%d)); the other exports work as they are",
		in.Name, v, onnx.MinOpset, onnx.MinOpset)
}

// ONNXSourceName is the name of the ONNX model the .shark file was made
// from, as its provenance records it (a base name), or "".
func ONNXSourceName(rd *sharkfile.Reader) string {
	in := rd.Header.Provenance["input"]
	if filepath.Ext(in) == ".onnx" {
		return in
	}
	return ""
}

// ExportONNXFile writes the .shark input as an ONNX model at path (see
// ONNXModel), and beside it, when the model needs one, its external data
// file, path's base name + ".data". Both are written to temporary files
// renamed into place when complete.
func ExportONNXFile(ctx context.Context, in, graph *Input, path string, opt onnx.Options, inputs ...string) error {
	rd, ok := in.Shark()
	if !ok {
		return fmt.Errorf("%w: %s is %s, not a .shark file: export reads .shark files", core.ErrInvalid, in.Name, in.File.Format)
	}
	if opt.DataName == "" {
		opt.DataName = filepath.Base(path) + ".data"
	}
	inputs = append(inputs, in.Path)
	if graph != nil {
		inputs = append(inputs, graph.Path)
	}
	md, err := ONNXModel(rd, graph, opt)
	if err != nil {
		return fmt.Errorf("exporting %s: %w", in.Name, err)
	}
	var data *atomicfile.File
	if md.External() != "" {
		if data, err = writeAtomic(ctx, filepath.Join(filepath.Dir(path), md.External()), inputs, md.WriteData); err != nil {
			return fmt.Errorf("exporting %s: %w", in.Name, err)
		}
	}
	model, err := writeAtomic(ctx, path, inputs, md.Write)
	if err != nil {
		if data != nil {
			data.Abort()
		}
		return fmt.Errorf("exporting %s: %w", in.Name, err)
	}
	if data != nil {
		if err := data.Commit(); err != nil {
			model.Abort()
			return err
		}
	}
	return model.Commit()
}

// writeAtomic writes a temporary file for path with write, left to the
// caller to commit.
func writeAtomic(ctx context.Context, path string, inputs []string, write func(io.Writer) error) (*atomicfile.File, error) {
	af, err := atomicfile.Create(path, inputs...)
	if err != nil {
		return nil, err
	}
	if err := write(withContext(ctx, af)); err != nil {
		af.Abort()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		af.Abort()
		return nil, err
	}
	return af, nil
}
