package compress

import (
	"context"
	"fmt"
	"io"

	"shark/core"
	"shark/formats"
	"shark/formats/npz"
	"shark/formats/pytorch"
	"shark/formats/safetensors"
	"shark/formats/sharkfile"
	"shark/internal/atomicfile"
)

// Layout of an export.
type Layout string

const (
	// Dequantized: each table decoded under its own name, in the dtype of
	// the tensor it was compressed from (float16, bfloat16 and float64
	// tables round-trip in their dtype; see dequantizedItem), dense
	// tensors unchanged.
	Dequantized Layout = "dequantized"
	// Tiers: per table and tier (fp32, fp16, int8 and int4 always, the
	// later tiers where rows take them), <name>.<tier>.ids (int64 row ids, ascending)
	// and <name>.<tier>.rows: float32 [n, D] for fp32, float16 [n, D] for
	// fp16, uint8 [n, D+4] for int8, uint8 [n, ceil(D/2)+4] for int4 and
	// uint8 [n, ceil(D/4)+4] for int2 in FBGEMM's fused rowwise byte order
	// (codes, fp16 scale, fp16 bias; 2-bit codes four to a byte from the
	// low bits up). The block tiers (int8-block, int4-block, int2-block),
	// whose rows a .shark file stores as codes with a scale and bias per
	// block of rows, are written as the rows of int8, int4 and int2 that
	// they are: each row's codes followed by its block's scale and bias,
	// which decode to the same values.
	Tiers Layout = "tiers"
	// Torch: Tiers in the byte layouts PyTorch's quantized embedding-bag
	// operators take: int8 (and int8-block) rows as
	// embedding_bag_byte_prepack makes them, uint8 [n, D+8] (codes, fp32
	// scale, fp32 bias: the fp16 values widened exactly); int4 and int2
	// (and int4-block, int2-block) rows as embedding_bag_4bit_prepack and
	// embedding_bag_2bit_prepack make them, which are Tiers' rows, for
	// embedding_bag_4bit_rowwise_offsets and
	// embedding_bag_2bit_rowwise_offsets. A PyTorch checkpoint's tiers are
	// these.
	Torch Layout = "torch"
)

// Layouts lists the layouts, for messages.
const Layouts = "dequantized, tiers or torch"

// Formats lists what Export writes, for messages.
const Formats = "npz, safetensors or pt"

type item struct {
	name  string
	dtype formats.DType
	shape []int64
	data  func() (io.Reader, error)
}

func exportItems(rd *sharkfile.Reader, layout Layout, to string) ([]item, error) {
	f := rd.File()
	var items []item
	for _, t := range f.Tensors {
		t := t
		if t.SameAs != "" {
			items = append(items, aliasItems(items, t)...)
			continue
		}
		if t.Tiers == nil {
			items = append(items, item{t.Name, t.DType, t.Shape, func() (io.Reader, error) { return t.Open() }})
			continue
		}
		if layout == Dequantized {
			items = append(items, dequantizedItem(rd, t, to))
			continue
		}
		if layout != Tiers && layout != Torch {
			return nil, fmt.Errorf("%w: unknown layout %q (%s)", core.ErrInvalid, layout, Layouts)
		}
		tbl, err := rd.Table(t.Name)
		if err != nil {
			return nil, err
		}
		for tier := core.Tier(0); tier < core.NumTiers; tier++ {
			tier := tier
			n := tbl.Counts()[tier]
			if tier >= core.DefaultTiers && n == 0 {
				continue // the opt-in tiers where rows take them: a file of the default ones exports as before they existed
			}
			ids := tbl.IDs(tier)
			items = append(items, item{fmt.Sprintf("%s.%s.ids", t.Name, tier), formats.I64, []int64{n}, func() (io.Reader, error) {
				b := make([]byte, 0, 8*len(ids))
				for _, id := range ids {
					b = append(b, byte(id), byte(id>>8), byte(id>>16), byte(id>>24), byte(id>>32), byte(id>>40), byte(id>>48), byte(id>>56))
				}
				return &bytesReader{b: b}, nil
			}})
			items = append(items, tierRows(t.Name, tbl, tier, layout))
		}
	}
	return items, nil
}

// dequantizedItem is a table's rows decoded, in the dtype of the table it
// was compressed from: an fp16 model comes back fp16, not twice its size.
// A float64 source holds the float32 rows exactly; float16 and bfloat16
// round each value to the nearest they hold (an fp32 or fp16 row of an
// fp16 source is exact, an int8 or int4 row moves by at most half a unit
// in the last place, far below its quantization error). NumPy has no
// bfloat16, so an .npz gets a bfloat16 table as float32, exactly.
func dequantizedItem(rd *sharkfile.Reader, t *formats.Tensor, to string) item {
	d := sourceDType(rd, t.Name)
	if d == formats.BF16 && to == "npz" {
		d = formats.F32
	}
	return item{t.Name, d, t.Shape, func() (io.Reader, error) {
		rc, err := t.Open()
		if err != nil || d == formats.F32 {
			return rc, err
		}
		return newCastReader(rc, d), nil
	}}
}

// tierRows is the item of one tier's rows: a block tier's as the rowwise
// rows of its code width.
func tierRows(name string, tbl *sharkfile.Table, tier core.Tier, layout Layout) item {
	n, dim := tbl.Counts()[tier], tbl.Dim()
	rowwise := tier.Rowwise()
	it := item{name: fmt.Sprintf("%s.%s.rows", name, tier), dtype: formats.U8,
		shape: []int64{n, int64(rowwise.RowBytes(dim))},
		data:  func() (io.Reader, error) { return tbl.RowwiseTierReader(tier), nil }}
	switch {
	case tier == core.FP32:
		it.dtype, it.shape = formats.F32, []int64{n, int64(dim)}
	case tier == core.FP16:
		it.dtype, it.shape = formats.F16, []int64{n, int64(dim)}
	case rowwise == core.INT8 && layout == Torch:
		it.shape = []int64{n, int64(dim + 8)}
		it.data = func() (io.Reader, error) { return newWidenReader(tbl.RowwiseTierReader(tier), dim), nil }
	}
	return it
}

type bytesReader struct{ b []byte }

func (r *bytesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// Export writes the container's contents as "npz", "safetensors" or "pt"
// (a PyTorch checkpoint, whose tiers are always in the Torch layout), or as
// "onnx", a model of the tables' quantized lookups alone (layout unused;
// see ONNXModel).
func Export(rd *sharkfile.Reader, to string, layout Layout, w io.Writer) error {
	if to == "pt" && layout == Tiers {
		layout = Torch
	}
	items, err := exportItems(rd, layout, to)
	if err != nil {
		return err
	}
	switch to {
	case "npz":
		zw := npz.NewWriter(w, false)
		for _, it := range items {
			if it.dtype == formats.BF16 {
				return fmt.Errorf("%w: tensor %q is bfloat16, which NumPy lacks; export to safetensors", formats.ErrUnsupported, it.name)
			}
			r, err := it.data()
			if err != nil {
				return err
			}
			if err := zw.Write(it.name, it.dtype, it.shape, r); err != nil {
				return err
			}
		}
		return zw.Close()
	case "safetensors":
		var specs []safetensors.Spec
		for _, it := range items {
			specs = append(specs, safetensors.Spec{Name: it.name, DType: it.dtype, Shape: it.shape, Data: it.data})
		}
		return safetensors.Write(w, specs, rd.Header.Provenance)
	case "pt":
		pw := pytorch.NewWriter(w, "archive")
		if s := rd.Structure(); s != nil {
			pw.SetStructure(ptStructure(s, items))
		}
		same := sameItems(rd.File(), items)
		for _, it := range items {
			if of, ok := same[it.name]; ok {
				if err := pw.WriteAlias(it.name, of); err != nil {
					return err
				}
				continue
			}
			r, err := it.data()
			if err != nil {
				return err
			}
			if err := pw.Write(it.name, it.dtype, it.shape, r); err != nil {
				return err
			}
		}
		return pw.Close()
	case "onnx":
		return exportONNX(rd, w)
	}
	return fmt.Errorf("%w: unknown export format %q (%s)", core.ErrInvalid, to, Formats)
}

// ExportFile writes the .shark input's contents to path as "npz",
// "safetensors" or "pt", through a temporary file renamed into place when complete;
// path must not be the input or one of inputs.
func ExportFile(in *Input, to string, layout Layout, path string, inputs ...string) error {
	return ExportFileContext(context.Background(), in, to, layout, path, inputs...)
}

// ExportFileContext is ExportFile that stops, leaving nothing under path,
// when ctx is cancelled.
func ExportFileContext(ctx context.Context, in *Input, to string, layout Layout, path string, inputs ...string) error {
	if to == "onnx" {
		return exportONNXFile(ctx, in, path, inputs)
	}
	rd, ok := in.Shark()
	if !ok {
		return fmt.Errorf("%w: %s is %s, not a .shark file: export reads .shark files", core.ErrInvalid, in.Name, in.File.Format)
	}
	af, err := atomicfile.Create(path, append(inputs, in.Path)...)
	if err != nil {
		return err
	}
	if err := Export(rd, to, layout, withContext(ctx, af)); err != nil {
		af.Abort()
		return fmt.Errorf("exporting %s: %w", in.Name, err)
	}
	if err := ctx.Err(); err != nil {
		af.Abort()
		return err
	}
	return af.Commit()
}
