package core

import (
	"fmt"
	"math"
)

// Mixed is a table held in memory with every row encoded in its tier: what a
// .shark file stores, read back with dequantize-on-lookup. It lets a model be
// evaluated with its compressed tables before anything is written.
type Mixed struct {
	Name   string
	R, D   int
	Tiers  []Tier
	pos    []int32          // each row's place among its tier's rows
	data   [NumTiers][]byte // each tier's rows, in row order, as in a .shark file
	counts [NumTiers]int64
	params *BlockParams // the block tiers' parameters, nil when no row takes one
}

// mixedWindow is the number of rows Encode reads from a source that is not
// in memory, at a time.
const mixedWindow = 1 << 14

// Encode stores src with row r in tier tiers[r], encoded on every core,
// block tiers in blocks of DefaultBlock rows.
func Encode(src RowSource, tiers []Tier) (*Mixed, error) {
	return EncodeBlocks(src, tiers, DefaultBlock)
}

// EncodeBlocks is Encode with the block tiers' rows in blocks of block
// rows: their parameters are computed first, in a pass of their own.
func EncodeBlocks(src RowSource, tiers []Tier, block int) (*Mixed, error) {
	n, d := src.Rows(), src.Dim()
	if len(tiers) != n {
		return nil, fmt.Errorf("%w: %d tiers for %d rows", ErrInvalid, len(tiers), n)
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d rows is more than an in-memory table holds", ErrInvalid, n)
	}
	m := &Mixed{R: n, D: d, Tiers: tiers, pos: make([]int32, n)}
	var cnt [NumTiers]int
	for r, t := range tiers {
		if t >= NumTiers {
			return nil, fmt.Errorf("%w: row %d has tier %d", ErrInvalid, r, t)
		}
		m.pos[r] = int32(cnt[t])
		cnt[t]++
	}
	for t := range m.data {
		m.data[t] = make([]byte, cnt[t]*Tier(t).RowBytes(d))
		m.counts[t] = int64(cnt[t])
	}
	if used := UsedBlockTiers(tiers); len(used) > 0 {
		var err error
		if m.params, err = ComputeBlockParams(src, block, used); err != nil {
			return nil, err
		}
	}
	enc := NewTierEncoder(d)
	ss, inMemory := src.(SliceSource)
	win := mixedWindow
	var buf []float32
	if inMemory {
		win = max(n, 1)
	} else {
		buf = make([]float32, win*d)
	}
	var done [NumTiers]int
	for lo := 0; lo < n; lo += win {
		hi := min(n, lo+win)
		var rows []float32
		if inMemory {
			rows = ss.RowSlice(lo, hi)
		} else {
			rows = buf[:(hi-lo)*d]
			if err := ReadRows(src, lo, hi, rows); err != nil {
				return nil, err
			}
		}
		var out [NumTiers][]byte
		for t := range out {
			out[t] = m.data[t][done[t]*Tier(t).RowBytes(d):]
		}
		c := enc.EncodeAt(&out, rows, tiers[lo:hi], lo, m.params)
		for t := range done {
			done[t] += c[t]
		}
	}
	return m, nil
}

func (m *Mixed) Rows() int { return m.R }
func (m *Mixed) Dim() int  { return m.D }
func (m *Mixed) Row(i int, dst []float32) error {
	if i < 0 || i >= m.R {
		return fmt.Errorf("%w: row %d of %d", ErrInvalid, i, m.R)
	}
	t := m.Tiers[i]
	rb := t.RowBytes(m.D)
	p := int(m.pos[i]) * rb
	if t.Block() {
		s, b := m.params.Of(t, i)
		DecodeBlockRow(t, dst[:m.D], m.data[t][p:p+rb], s, b)
		return nil
	}
	DecodeRow(t, dst[:m.D], m.data[t][p:p+rb])
	return nil
}

// Params is the table's block parameters: nil when no row takes a block
// tier.
func (m *Mixed) Params() *BlockParams { return m.params }

// TierCounts is the number of rows of each tier.
func (m *Mixed) TierCounts() [NumTiers]int64 { return m.counts }

// TierRows is the encoded rows of tier t, in row order: the bytes of the
// tier's block in a .shark file.
func (m *Mixed) TierRows(t Tier) []byte { return m.data[t] }
