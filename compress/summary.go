package compress

import (
	"fmt"
	"strconv"
	"strings"

	"shark/core"
	"shark/formats/sharkfile"
	"shark/internal/numfmt"
)

// Roles of a tensor in a summary.
const (
	RoleTable      = "embedding table"  // what quantize compresses by default
	RoleCompressed = "compressed table" // a .shark table stored at mixed precision
	RoleDense      = "dense"            // passed through bit for bit
	// RoleFP32Table is a small table of a .shark model, every row at fp32.
	RoleFP32Table = "table (fp32)"
	// RoleRecord is a .shark file's own record (a model's training and
	// encoding), not a weight.
	RoleRecord = "model record"
	// RoleOptimizer is a training checkpoint's optimizer state (Adam's
	// moments): shaped like a table, but passed through bit for bit unless
	// named by --tables.
	RoleOptimizer = "optimizer state (dense, not a table)"
)

// TensorSummary is one tensor as every face lists it.
type TensorSummary struct {
	Name      string  `json:"name"`
	Shape     []int64 `json:"shape"`
	ShapeText string  `json:"shape_text"` // "3706 × 32", "scalar"
	DType     string  `json:"dtype"`
	Bytes     int64   `json:"bytes"` // stored bytes (compressed, for a .shark table)
	Size      string  `json:"size"`  // Bytes for people
	Role      string  `json:"role"`
	Table     bool    `json:"table"` // an embedding table: compressed, or what quantize would compress
	// Why says what makes the tensor a table or not (a Gather node, an
	// embedding module's name, its size), the same words in every face.
	Why   string           `json:"why"`
	Tiers map[string]int64 `json:"tiers,omitempty"`
	// GatheredBy names the graph nodes that look rows up in the tensor
	// (an ONNX model's Gather nodes).
	GatheredBy []string `json:"gathered_by,omitempty"`
	// RMSE and MaxAbsErr are a compressed table's error against its source,
	// as its .shark header records them.
	RMSE      Number `json:"rmse,omitempty"`
	MaxAbsErr Number `json:"max_abs_err,omitempty"`
	// Block is the rows per block of a compressed table's block tiers
	// (int8-block, int4-block, int2-block), when its rows take one: the
	// header's block, the one setting a reader of the file needs besides
	// the tiers.
	Block int64 `json:"block,omitempty"`
}

// Summary is what every face shows of an opened file ("shark inspect --json").
type Summary struct {
	Name   string            `json:"name"`
	Format string            `json:"format"`
	Bytes  int64             `json:"bytes"`
	Size   string            `json:"size"`
	Facts  string            `json:"facts"` // "npz · 1.2 MiB · 10 tensors"
	Meta   map[string]string `json:"meta,omitempty"`
	// Version is a .shark file's container version ("2.0"): version 2
	// holds the tiers after int4, and a version-1 reader refuses it.
	Version string          `json:"version,omitempty"`
	Tensors []TensorSummary `json:"tensors"`
	// TablesFP32 is the fp32 size of the tables a plan would compress by
	// default: what measuring them reads.
	TablesFP32     int64  `json:"tables_fp32"`
	TablesFP32Size string `json:"tables_fp32_size"`
}

// Summarize describes an opened file from its headers alone, with the
// default size rule for tables.
func Summarize(in *Input) *Summary { return SummarizeRows(in, DefaultMinRows) }

// SummarizeRows is Summarize with tables of at least minRows rows by the
// size rule (Settings.MinRows).
func SummarizeRows(in *Input, minRows int64) *Summary {
	f := in.File
	s := &Summary{Name: in.Name, Format: f.Format, Bytes: f.Size, Size: Size(f.Size), Meta: f.Meta, Tensors: []TensorSummary{}}
	stored := map[string]int64{}
	errs := map[string]*sharkfile.Stats{}
	blocks := map[string]int64{}
	if rd, ok := in.Shark(); ok {
		s.Version = fmt.Sprintf("%d.%d", rd.Header.Major, rd.Header.Minor)
		for _, e := range rd.Header.Tensors {
			blocks[e.Name] = e.Block
			if e.Stats != nil {
				errs[e.Name] = e.Stats
			}
			for _, blk := range append([]*sharkfile.Block{e.Data, e.Codes, e.Dir, e.Params}, e.Rows...) {
				if blk != nil { // each block padded to Align, as the budget counts it
					stored[e.Name] += sharkfile.AlignUp(blk.Len)
				}
			}
		}
	}
	for _, t := range f.Tensors {
		ts := TensorSummary{Name: t.Name, Shape: t.Shape, ShapeText: ShapeText(t.Shape), DType: string(t.DType), Bytes: t.Bytes, Role: RoleDense, GatheredBy: t.GatheredBy}
		if ts.Shape == nil {
			ts.Shape = []int64{}
		}
		table, why := t.TableReason(minRows)
		ts.Why = why
		if b, ok := stored[t.Name]; ok {
			ts.Bytes = b
		} else if t.Stored > 0 {
			ts.Bytes = t.Stored
		}
		switch {
		case t.SameAs != "":
			ts.Role, ts.Bytes = sameAsRole(t), 0 // stored once, under the other name
			ts.Why = "tied: the storage of " + strconv.Quote(t.SameAs) + ", stored and compressed once under that name"
		case t.Tiers != nil && t.Tiers[core.FP32] == t.Shape[0]:
			// Every row at fp32 (a model shark train wrote): a table to
			// compress, not a compressed one.
			ts.Tiers = TierMap(tierCounts(t.Tiers))
			if table {
				ts.Role = RoleTable
			} else {
				ts.Role = RoleFP32Table
				ts.Why = "stored as a table, every row fp32; not compressed by default (" + why + ")"
			}
		case t.Tiers != nil:
			ts.Role, ts.Tiers, ts.DType = RoleCompressed, TierMap(tierCounts(t.Tiers)), "mixed"
			ts.Why = "compressed: its rows are stored at mixed precision"
			if ts.Block = blocks[t.Name]; ts.Block > 0 {
				ts.Why += ", the block tiers' in blocks of " + Count(ts.Block) + " rows"
			}
			if st := errs[t.Name]; st != nil {
				ts.RMSE, ts.MaxAbsErr = Number(st.RMSE), Number(st.MaxAbsErr)
			}
		case t.OptimizerState:
			ts.Role = RoleOptimizer
		case table:
			ts.Role = RoleTable
		case len(t.Name) > 4 && strings.HasPrefix(t.Name, "__") && strings.HasSuffix(t.Name, "__") && s.Format == "shark":
			ts.Role, ts.Why = RoleRecord, "the model's own record, not a weight"
		}
		ts.Table = ts.Role == RoleTable || ts.Role == RoleCompressed || ts.Role == RoleFP32Table
		ts.Size = Size(ts.Bytes)
		if ts.Role == RoleTable {
			s.TablesFP32 += t.Shape[0] * t.Shape[1] * 4
		}
		s.Tensors = append(s.Tensors, ts)
	}
	n := "tensors"
	if len(s.Tensors) == 1 {
		n = "tensor"
	}
	s.Facts = fmt.Sprintf("%s · %s · %d %s", s.Format, s.Size, len(s.Tensors), n)
	if s.Version != "" {
		s.Facts += " · container version " + s.Version
	}
	s.TablesFP32Size = Size(s.TablesFP32)
	return s
}

// ShapeText writes a shape for people: "3,706 × 32", "scalar" for none.
func ShapeText(shape []int64) string {
	if len(shape) == 0 {
		return "scalar"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = Count(d)
	}
	return strings.Join(parts, " × ")
}

// Count writes a number with thousands separators: "6,040".
func Count(n int64) string { return numfmt.Count(n) }

// tierCounts is a tensor's counts per tier as core's array (the tensor's
// may name fewer tiers, the default ones).
func tierCounts(c *[8]int64) (w [core.NumTiers]int64) {
	copy(w[:], c[:])
	return w
}

// TierMap names tier counts for JSON: the default tiers always, the later
// (opt-in) ones where rows take them, so that a file of the default tiers
// is described as before they existed.
func TierMap(c [core.NumTiers]int64) map[string]int64 {
	m := map[string]int64{}
	for t := core.Tier(0); t < core.NumTiers; t++ {
		if t < core.DefaultTiers || c[t] != 0 {
			m[t.String()] = c[t]
		}
	}
	return m
}

// TierText writes tier counts as the faces show them: "0/720/2986/0",
// then the later tiers that have rows by name ("0/0/103/1859 int2 1744").
func TierText(c map[string]int64) string {
	if c == nil {
		return ""
	}
	s := fmt.Sprintf("%d/%d/%d/%d", c["fp32"], c["fp16"], c["int8"], c["int4"])
	for t := core.Tier(core.DefaultTiers); t < core.NumTiers; t++ {
		if n := c[t.String()]; n != 0 {
			s += fmt.Sprintf(" %s %d", t, n)
		}
	}
	return s
}
