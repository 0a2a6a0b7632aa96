package compress

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"shark/core"
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
		out = append(out, ot)
	}
	return out, nil
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
	return onnx.Replace(graph.ReaderAt, graph.File.Size, graph.File, tables, opt)
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
