package core

import (
	"encoding/binary"
	"fmt"

	"shark/core/kernels"
)

// BlockParams are a table's block parameters: its rows cut into blocks of
// Block consecutive row indices, and for each block, for each of Tiers
// (the block tiers stored, in tier order), the fp16 scale and bias that
// every row of the block in that tier is decoded with. They depend on the
// source rows alone (the minimum and maximum over the rows of the block
// that every lossy tier holds), not on the assignment, so the measure step
// knows each row's error under them before any tier is chosen.
type BlockParams struct {
	Block int
	Tiers []Tier
	// Params is, block after block, each tier's scale bits then bias bits:
	// the layout of a .shark table's params block, as uint16s.
	Params []uint16
	slot   [NumTiers]int8 // each tier's place in Tiers, -1 if absent
}

// NewBlockParams checks and wraps parameters read or computed elsewhere:
// blocks of block rows for a table of rows rows, tiers block tiers in tier
// order, and 2*len(tiers) values a block.
func NewBlockParams(rows int64, block int, tiers []Tier, params []uint16) (*BlockParams, error) {
	if block < 1 {
		return nil, fmt.Errorf("%w: blocks of %d rows", ErrInvalid, block)
	}
	p := &BlockParams{Block: block, Tiers: tiers, Params: params}
	for t := range p.slot {
		p.slot[t] = -1
	}
	for i, t := range tiers {
		if !t.Block() || (i > 0 && t <= tiers[i-1]) {
			return nil, fmt.Errorf("%w: block parameters for tiers %v (block tiers in tier order wanted)", ErrInvalid, tiers)
		}
		p.slot[t] = int8(i)
	}
	if want := Blocks(rows, block) * 2 * int64(len(tiers)); int64(len(params)) != want {
		return nil, fmt.Errorf("%w: %d block parameters, %d rows in blocks of %d for %d tiers need %d", ErrInvalid, len(params), rows, block, len(tiers), want)
	}
	return p, nil
}

// Of is the scale and bias bits of block tier t (one of Tiers) for row r.
func (p *BlockParams) Of(t Tier, r int) (scale, bias uint16) {
	i := (r/p.Block*len(p.Tiers) + int(p.slot[t])) * 2
	return p.Params[i], p.Params[i+1]
}

// Bytes is Params little-endian: the params block's bytes.
func (p *BlockParams) Bytes() []byte {
	b := make([]byte, 0, 2*len(p.Params))
	for _, v := range p.Params {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// UsedBlockTiers is the block tiers among tiers that some row takes, in
// tier order: those a table's parameters are stored for.
func UsedBlockTiers(tiers []Tier) []Tier {
	var used [NumTiers]bool
	for _, t := range tiers {
		if t < NumTiers {
			used[t] = true
		}
	}
	var out []Tier
	for t := INT8B; t < NumTiers; t++ {
		if used[t] {
			out = append(out, t)
		}
	}
	return out
}

// blockRange is the minimum and maximum over the rows (of dim values) of
// one block that every lossy tier holds, in row order as one scan would
// take them, and whether there is such a row.
func blockRange(rows []float32, dim int) (mn, mx float32, ok bool) {
	for i := 0; i+dim <= len(rows) && dim > 0; i += dim {
		lo, hi, held := kernels.HeldMinMax(rows[i : i+dim])
		switch {
		case !held:
		case !ok:
			mn, mx, ok = lo, hi, true
		default:
			if lo < mn {
				mn = lo
			}
			if hi > mx {
				mx = hi
			}
		}
	}
	return mn, mx, ok
}

// blockParamsOf appends one block's parameters for each of tiers.
func blockParamsOf(dst []uint16, rows []float32, dim int, tiers []Tier) []uint16 {
	mn, mx, ok := blockRange(rows, dim)
	for _, t := range tiers {
		s, b := kernels.EmptyBlockParams()
		if ok {
			s, b = kernels.BlockParams(t.Bits(), mn, mx)
		}
		dst = append(dst, s, b)
	}
	return dst
}

// ComputeBlockParams reads src once and computes its parameters for the
// block tiers tiers (in tier order) in blocks of block rows.
func ComputeBlockParams(src RowSource, block int, tiers []Tier) (*BlockParams, error) {
	n, d := src.Rows(), src.Dim()
	if block < 1 {
		return nil, fmt.Errorf("%w: blocks of %d rows", ErrInvalid, block)
	}
	params := make([]uint16, 0, Blocks(int64(n), block)*2*int64(len(tiers)))
	win := max(1, (1<<16)/block) * block // whole blocks at a time
	buf := make([]float32, min(win, n)*d)
	for lo := 0; lo < n; lo += win {
		hi := min(n, lo+win)
		rows := buf[:(hi-lo)*d]
		if err := ReadRows(src, lo, hi, rows); err != nil {
			return nil, fmt.Errorf("reading rows %d..%d: %w", lo, hi, err)
		}
		for b := 0; b < hi-lo; b += block {
			params = blockParamsOf(params, rows[b*d:min(hi-lo, b+block)*d], d, tiers)
		}
	}
	return NewBlockParams(int64(n), block, tiers, params)
}

// EncodeBlockRow writes src's codes in block tier t under the given scale
// and bias to dst[:t.RowBytes(len(src))].
func EncodeBlockRow(t Tier, dst []byte, src []float32, scale, bias uint16) {
	kernels.QuantizeCodes(t.Bits(), dst, src, scale, bias)
}

// DecodeBlockRow reads one row of block tier t from its codes with its
// block's scale and bias into dst (len(dst) = dim).
func DecodeBlockRow(t Tier, dst []float32, codes []byte, scale, bias uint16) {
	kernels.DequantizeCodes(t.Bits(), dst, codes, scale, bias)
}
