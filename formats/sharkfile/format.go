// Package sharkfile is shark's native container.
//
// Layout (all integers little-endian):
//
//	[0, 64)        magic "\x89SHK\r\n\x1a\n", major u16, minor u16, zeros
//	[64, H)        data blocks, each starting on a 64-byte boundary, each one
//	               padded with zeros to the next boundary, tiling the range
//	               with no gaps and no overlaps
//	[H, H+L)       header: msgpack of Header (tables, shapes, tiers, codec,
//	               method parameters and scores, provenance, block index)
//	[H+L, H+L+32)  trailer: H u64, L u64, CRC-32C(header) u32,
//	               CRC-32C(trailer[0:20]) u32, "SHARKEND"
//
// Every block is covered by CRC-32C checksums, one per 1 MiB chunk of the
// padded block, kept in the header: a reader verifies only the chunks it
// touches, once, so random access stays O(1) and every byte of the file is
// checked before it is used. The index is at the end, as in zip, so the file
// is written in one streaming pass.
//
// A dense tensor is one block of its raw bytes. A compressed table of R rows
// and dim D is six blocks:
//
//	codes  2-bit tier code per row (0 fp32, 1 fp16, 2 int8, 3 int4), four
//	       rows a byte, row r in bits 2*(r%4) of byte r/4; unused bits zero
//	dir    rank directory: for every 256 rows after the first 256, four u32
//	       counts of the rows of each tier before that point (empty for
//	       tables of up to 256 rows)
//	fp32, fp16, int8, int4
//	       the rows of each tier in row order, in core's row layouts (int8 and
//	       int4 FBGEMM fused rowwise: codes, then fp16 scale, then fp16 bias)
//
// Row r of tier t is at rows[t].off + rank*rowBytes(t), with rank =
// dir[r/256][t] + the count of code t among rows 256*(r/256) .. r-1: at most
// 64 bytes of codes, so O(1), for 0.3125 bytes of index per row.
//
// Container version 2 adds tables that use the tiers after int4 (int2 and
// the block tiers int8-block, int4-block, int2-block; core.NumTiers in
// all). Such a "wide" table's entry has a count and a row block for every
// tier, and:
//
//	codes  4-bit tier code per row (0..3 as above, 4 int2, 5 int8-block,
//	       6 int4-block, 7 int2-block), two rows a byte, row r in bits
//	       4*(r%2) of byte r/2; unused bits zero
//	dir    for every 256 rows after the first 256, core.NumTiers u32 counts
//	rows   one block per tier, in row order: int2 rows FBGEMM's 2-bit
//	       rowwise rows (codes four to a byte, then fp16 scale and bias);
//	       a block tier's rows only their codes (D, ceil(D/2), ceil(D/4)
//	       bytes), laid out as the rowwise rows' codes
//	params present when a block tier has rows: for each block of Entry.Block
//	       consecutive rows (the last may be shorter), for each tier of
//	       Entry.BlockTiers in order, the fp16 scale then the fp16 bias
//	       that every row of the block in that tier is decoded with (the
//	       rowwise codec's, from the minimum and maximum over the block's
//	       rows that every lossy tier holds: core.ComputeBlockParams)
//
// A block-tier row decodes as the rowwise row made of its codes and its
// block's scale and bias. The rank is found as in version 1, over at most
// 128 bytes of codes. A table that uses only fp32, fp16, int8 and int4 is
// stored as in version 1 in either version (four counts and row blocks),
// and a file holding no wide table is written as version 1, byte for byte.
package sharkfile

import (
	"hash/crc32"

	"shark/core"
	"shark/formats"
)

const (
	Magic    = "\x89SHK\r\n\x1a\n"
	EndMagic = "SHARKEND"
	// Major is the newest container version this package reads and
	// writes; a file with no wide table is written as MajorNarrow.
	Major       = 2
	MajorNarrow = 1
	Minor       = 0
	TrailerSize = 32
	// ChunkSize is the span of one checksum.
	ChunkSize = 1 << 20
	// MaxHeader bounds the header: 4 bytes of checksum per MiB of data
	// leaves room for files of many terabytes.
	MaxHeader = 256 << 20
	// Codec names the row encoding of the int8/int4 tiers.
	Codec = "fbgemm-fused-nbit-rowwise-sbhalf (codes, fp16 scale, fp16 bias at row end; int4 low nibble first)"
	// MaxRows per table: the directory counts are u32.
	MaxRows = 1<<32 - 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Block locates one data block.
type Block struct {
	Off int64    `msgpack:"off"`
	Len int64    `msgpack:"len"`
	CRC []uint32 `msgpack:"crc"` // CRC-32C of each ChunkSize piece of [Off, Off+AlignUp(Len))
}

func (b *Block) padded() int64 { return AlignUp(b.Len) }
func (b *Block) chunks() int64 { return (b.padded() + ChunkSize - 1) / ChunkSize }

// Stats are a compressed table's reconstruction statistics at write time.
type Stats struct {
	RMSE        float64 `msgpack:"rmse"`
	MaxAbsErr   float64 `msgpack:"max_abs_err"`
	WeightedErr float64 `msgpack:"weighted_err"`
	BytesBefore int64   `msgpack:"bytes_before"`
}

// Entry describes one tensor.
type Entry struct {
	Name  string  `msgpack:"name"`
	Kind  string  `msgpack:"kind"`  // KindDense or KindTable
	DType string  `msgpack:"dtype"` // dense: stored dtype; table: the source's dtype
	Shape []int64 `msgpack:"shape"`

	Data *Block `msgpack:"data,omitempty"` // dense

	Codes  *Block             `msgpack:"codes,omitempty"` // table
	Dir    *Block             `msgpack:"dir,omitempty"`
	Rows   []*Block           `msgpack:"rows,omitempty"`   // one per tier
	Counts []int64            `msgpack:"counts,omitempty"` // rows per tier
	Stats  *Stats             `msgpack:"stats,omitempty"`
	Scores map[string]float64 `msgpack:"scores,omitempty"` // e.g. importance
	Extra  map[string]string  `msgpack:"extra,omitempty"`

	SameAs string `msgpack:"same_as,omitempty"` // KindAlias: the tensor it is

	// A wide table using block tiers (version 2): rows per block, the
	// block tiers whose scales and biases are stored (ascending), and the
	// block holding them.
	Block      int64  `msgpack:"block,omitempty"`
	BlockTiers []int  `msgpack:"block_tiers,omitempty"`
	Params     *Block `msgpack:"params,omitempty"`
}

const (
	KindDense = "dense"
	KindTable = "table"
)

// Extra["role"] of a dense tensor that is a training checkpoint's optimizer
// state (formats.Tensor.OptimizerState), so that a file read back, or
// compressed again, still takes it for no table.
const (
	ExtraRole          = "role"
	RoleOptimizerState = "optimizer state"
)

// Method records how the tables were compressed.
type Method struct {
	WPos           float64   `msgpack:"w_pos"`
	WNeg           float64   `msgpack:"w_neg"`
	Gamma          float64   `msgpack:"gamma"`
	PrioritySource string    `msgpack:"priority_source"` // "counts" or "row-norm"
	Assignment     string    `msgpack:"assignment"`      // "budget", "fractions", "thresholds"
	BudgetBytes    int64     `msgpack:"budget_bytes,omitempty"`
	Fractions      []float64 `msgpack:"fractions,omitempty"`
	Thresholds     []float64 `msgpack:"thresholds,omitempty"`
}

// Header is the container's index and metadata.
type Header struct {
	Major      int               `msgpack:"major"`
	Minor      int               `msgpack:"minor"`
	Chunk      int64             `msgpack:"chunk"`
	Codec      string            `msgpack:"codec"`
	Method     *Method           `msgpack:"method,omitempty"`
	Provenance map[string]string `msgpack:"provenance,omitempty"`
	Tensors    []Entry           `msgpack:"tensors"`
	// Structure is how the source nested its tensors among other values
	// (a training checkpoint's dicts, lists and scalars), flat in preorder;
	// absent from files of flat sources and from files before it existed.
	Structure []formats.FlatNode `msgpack:"structure,omitempty"`
}

// NewMethod is the record of a compression by rule, with priorities from
// pp and the named source ("counts", "row-norm", "training stream").
func NewMethod(pp core.PriorityParams, rule core.Rule, source string) Method {
	m := Method{WPos: pp.WPos, WNeg: pp.WNeg, Gamma: pp.Gamma, PrioritySource: source, Assignment: rule.By.String()}
	switch rule.By {
	case core.ByBudget:
		m.BudgetBytes = rule.Budget
	case core.ByFractions:
		m.Fractions = rule.Fractions[:]
	case core.ByThresholds:
		m.Thresholds = rule.Thresholds[:]
	}
	return m
}
