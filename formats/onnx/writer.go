package onnx

import (
	"fmt"
	"io"
	"math"
	"path"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/formats"
)

// A compressed table goes into an ONNX model as a quantized lookup made of
// standard operators (opset 13), in place of the Gather that read its
// fp32 rows. Its rows are stored as shark stores them: each tier's rows
// (fp32, fp16, int8 codes, int4 codes two a byte) with the int8 and int4
// rows' fp16 scale and bias, and one int32 a row saying where the row is:
// its place in the tiers' rows laid end to end (fp32 first), so that the
// tier is the range that place falls in and the slot is the place less the
// range's start. A lookup of ids is then
//
//	g = Gather(index, ids)
//	per tier t: s = Clip(g - start_t, 0, n_t - 1); rows_t = its tier's
//	            decoding of Gather(tier t's rows, s)
//	rows = Where(g < end_fp32, rows_fp32, Where(g < end_fp16, rows_fp16, ...))
//
// where decoding is Cast to float for fp16 and, for int8 and int4,
// Cast(codes) * Cast(scale) + Cast(bias): the multiplication and the
// addition each rounded to float32, as shark's own decoding rounds them,
// so the looked-up rows equal shark's dequantized rows bit for bit. int4
// codes are split in floats (hi = Floor(x / 16), lo = x - 16 * hi, both
// exact) and put back in column order by one Gather over the last axis.
// Every tier is looked up for every id and the wanted one kept: a few
// small gathers in place of one, with no shape that depends on the data.
//
// int2 codes (four a byte, lowest bits first) are split the same way, in
// three steps (64, 16, 4). The block tiers (int8-block, int4-block,
// int2-block) store their rows' codes alone; a block of Block rows shares
// one fp16 scale and bias per block tier, gathered by the row's block,
// Mod(id, rows) / Block (Gather's negative ids counted from the end, as
// the index's Gather counts them), so a block-tier row decodes as the
// rowwise row of its codes with its block's scale and bias, bit for bit
// as shark decodes it.

// NumTiers is the tiers a lookup takes, in the order of Table.Counts:
// core's tiers.
const NumTiers = 8

// Table is a compressed table to write as a quantized lookup.
type Table struct {
	Name   string
	Rows   int64
	Dim    int
	DType  formats.DType   // of the rows a lookup gives: the table's source's
	Counts [NumTiers]int64 // rows per tier, as TierNames
	// Index streams one little-endian int32 a row: the start of the row's
	// tier (the counts of the tiers before it) plus its rank in the tier.
	Index func() (io.Reader, error)
	// Tiers stream each tier's rows in row order, in shark's layouts:
	// fp32 D float32; fp16 D binary16; int8 D codes, then fp16 scale and
	// fp16 bias; int4 ceil(D/2) bytes of codes (low nibble first), then
	// scale and bias (FBGEMM's fused rowwise layout); int2 ceil(D/4)
	// bytes of codes (lowest bits first), then scale and bias; the block
	// tiers their codes alone, as int8, int4 and int2 lay them out.
	Tiers [NumTiers]func() (io.Reader, error)
	// Block is the rows per block of the block tiers, and Params streams
	// their parameters as a .shark table stores them: block after block
	// (ceil(Rows/Block) of them), for each block tier holding rows, in
	// tier order, the fp16 scale then the fp16 bias. Needed only when a
	// block tier holds rows.
	Block  int
	Params func() (io.Reader, error)
}

// TierNames are the tiers in the order of Table.Counts.
var TierNames = [NumTiers]string{"fp32", "fp16", "int8", "int4", "int2", "int8-block", "int4-block", "int2-block"}

// tierBits is each quantized tier's bits a code (0: fp32 and fp16).
var tierBits = [NumTiers]int{0, 0, 8, 4, 2, 8, 4, 2}

// blockTier says whether tier's rows share their block's scale and bias.
func blockTier(tier int) bool { return tier >= 5 }

// onnx.proto's TensorProto.DataType values written.
const (
	typeFloat   = 1
	typeUint8   = 2
	typeInt32   = 6
	typeInt64   = 7
	typeFloat16 = 10
)

// More field numbers of onnx.proto's messages.
const (
	modelOpset      = 8
	modelMeta       = 14
	graphInput      = 11
	graphOutput     = 12
	nodeOutput      = 2
	attrName        = 1
	attrInt         = 3
	attrType        = 20
	attrTypeInt     = 2
	opsetVersion    = 2
	tensorLocation  = 14
	valueInfoName   = 1
	valueInfoType   = 2
	typeTensor      = 1
	tensorElemType  = 1
	tensorShape     = 2
	shapeDim        = 1
	dimValue        = 1
	dimParam        = 2
	locationExtern  = 1
	externAlignment = 4096 // a page: ONNX Runtime maps external data aligned so
)

// MetaPrefix begins the metadata_props key of each quantized lookup a
// model holds, "shark.quantized_lookup.<table>": the reader finds the
// table's parts by it.
const MetaPrefix = "shark.quantized_lookup."

// Prefix is what the names of a table's parts begin with.
func Prefix(table string) string { return table + ".shark" }

// onnxType is the TensorProto.DataType of a dtype.
func onnxType(d formats.DType) (uint64, bool) {
	for k, v := range dataTypes {
		if v == d {
			return k, true
		}
	}
	return 0, false
}

// tensorSpec is an initializer to write: its data streamed when written.
type tensorSpec struct {
	name string
	dt   uint64
	dims []int64
	n    int64
	open func() (io.Reader, error)
}

func (ts tensorSpec) proto(ext *extData) *msg {
	m := newMsg()
	for _, d := range ts.dims {
		m.varint(tensorDims, uint64(d))
	}
	m.varint(tensorDataType, ts.dt).str(tensorName, ts.name)
	if ext != nil && ts.n >= ext.min {
		return ext.place(m, ts.n, ts.open)
	}
	return m.stream(tensorRaw, ts.n, ts.open)
}

// extData is the external data file a model too large for one protobuf
// keeps its larger initializers in.
type extData struct {
	name  string // its path relative to the model
	min   int64  // initializers this large or larger go to it
	size  int64
	parts []extPart
}

type extPart struct {
	off, n int64
	open   func() (io.Reader, error)
}

// place puts n bytes in the data file, aligned, and records where in m.
func (e *extData) place(m *msg, n int64, open func() (io.Reader, error)) *msg {
	off := (e.size + externAlignment - 1) / externAlignment * externAlignment
	e.parts = append(e.parts, extPart{off, n, open})
	e.size = off + n
	for _, kv := range [][2]string{{"location", e.name}, {"offset", strconv.FormatInt(off, 10)}, {"length", strconv.FormatInt(n, 10)}} {
		m.add(tensorExternal, newMsg().str(1, kv[0]).str(2, kv[1]))
	}
	return m.varint(tensorLocation, locationExtern)
}

// scalar and vector make small constant initializers.
func int32Scalar(name string, v int64) tensorSpec {
	b := protowire.AppendFixed32(nil, uint32(int32(v)))
	return tensorSpec{name, typeInt32, nil, 4, constant(b)}
}

func int64Scalar(name string, v int64) tensorSpec {
	b := protowire.AppendFixed64(nil, uint64(v))
	return tensorSpec{name, typeInt64, nil, 8, constant(b)}
}

func floatScalar(name string, v float32) tensorSpec {
	b := protowire.AppendFixed32(nil, math.Float32bits(v))
	return tensorSpec{name, typeFloat, nil, 4, constant(b)}
}

func int64Vector(name string, vs []int64) tensorSpec {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed64(b, uint64(v))
	}
	return tensorSpec{name, typeInt64, []int64{int64(len(vs))}, int64(len(b)), constant(b)}
}

func constant(b []byte) func() (io.Reader, error) {
	return func() (io.Reader, error) { return &sliceReader{b: b}, nil }
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// node makes a NodeProto of the default domain.
func node(op, name string, ins []string, out string, attrs ...*msg) *msg {
	m := newMsg()
	for _, in := range ins {
		m.str(nodeInput, in)
	}
	m.str(nodeOutput, out).str(nodeName, name).str(nodeOpType, op)
	for _, a := range attrs {
		m.add(nodeAttribute, a)
	}
	return m
}

func intAttr(name string, v int64) *msg {
	return newMsg().str(attrName, name).varint(attrInt, uint64(v)).varint(attrType, attrTypeInt)
}

// Model is an ONNX model ready to write: the model file and, for a model
// beyond a protobuf's 2 GiB, its external data file.
type Model struct {
	m   *msg
	ext *extData
}

// Options of a written model.
type Options struct {
	// DataName is the external data file's name, beside the model; used
	// only when the model needs one.
	DataName string
	// ExternalAbove is the size of model past which initializers of 1 KiB
	// or more go to the external data file; 0 means a protobuf's limit,
	// 2 GiB less one byte.
	ExternalAbove int64
}

const maxProto = 1<<31 - 1

// build makes the model inline, and again with external data if it is
// too large for that.
func build(opt Options, mk func(ext *extData) (*msg, error)) (*Model, error) {
	m, err := mk(nil)
	if err != nil {
		return nil, err
	}
	limit := opt.ExternalAbove
	if limit <= 0 {
		limit = maxProto
	}
	if m.Size() <= limit {
		return &Model{m: m}, nil
	}
	if opt.DataName == "" {
		return nil, fmt.Errorf("%w: a model of %d bytes passes a protobuf's 2 GiB and needs a data file beside it, which this export cannot write (shark export --to onnx can)", formats.ErrTooLarge, m.Size())
	}
	if path.Base(opt.DataName) != opt.DataName {
		return nil, fmt.Errorf("%w: a model of %d bytes needs an external data file, and %q is no file name", formats.ErrUnsupported, m.Size(), opt.DataName)
	}
	ext := &extData{name: opt.DataName, min: 1024}
	if m, err = mk(ext); err != nil {
		return nil, err
	}
	if m.Size() > maxProto {
		return nil, fmt.Errorf("%w: the model's graph alone takes %d bytes, beyond a protobuf's 2 GiB", formats.ErrTooLarge, m.Size())
	}
	return &Model{m: m, ext: ext}, nil
}

// External is the name of the data file the model needs beside it, or "".
func (md *Model) External() string {
	if md.ext == nil {
		return ""
	}
	return md.ext.name
}

// Size is the model file's size.
func (md *Model) Size() int64 { return md.m.Size() }

// Write writes the model file.
func (md *Model) Write(w io.Writer) error { return md.m.writeTo(w) }

// WriteData writes the external data file (nothing when there is none).
func (md *Model) WriteData(w io.Writer) error {
	if md.ext == nil {
		return nil
	}
	var at int64
	for _, p := range md.ext.parts {
		if p.off > at {
			if _, err := w.Write(make([]byte, p.off-at)); err != nil {
				return err
			}
		}
		if err := copyN(w, p.open, p.n); err != nil {
			return err
		}
		at = p.off + p.n
	}
	return nil
}
