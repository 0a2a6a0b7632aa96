package core

import "fmt"

// Mixed is a table held in memory with every row encoded in its tier: what a
// .shark file stores, read back with dequantize-on-lookup. It lets a model be
// evaluated with its compressed tables before anything is written.
type Mixed struct {
	Name  string
	R, D  int
	Tiers []Tier
	off   []int64 // byte offset of each row in data
	data  []byte
}

// Encode stores src with row r in tier tiers[r].
func Encode(src RowSource, tiers []Tier) (*Mixed, error) {
	n, d := src.Rows(), src.Dim()
	if len(tiers) != n {
		return nil, fmt.Errorf("%w: %d tiers for %d rows", ErrInvalid, len(tiers), n)
	}
	m := &Mixed{R: n, D: d, Tiers: tiers, off: make([]int64, n+1)}
	for r, t := range tiers {
		m.off[r+1] = m.off[r] + int64(t.RowBytes(d))
	}
	m.data = make([]byte, m.off[n])
	row := make([]float32, d)
	for r, t := range tiers {
		if err := src.Row(r, row); err != nil {
			return nil, err
		}
		EncodeRow(t, m.data[m.off[r]:m.off[r+1]], row)
	}
	return m, nil
}

func (m *Mixed) Rows() int { return m.R }
func (m *Mixed) Dim() int  { return m.D }
func (m *Mixed) Row(i int, dst []float32) error {
	if i < 0 || i >= m.R {
		return fmt.Errorf("%w: row %d of %d", ErrInvalid, i, m.R)
	}
	DecodeRow(m.Tiers[i], dst[:m.D], m.data[m.off[i]:m.off[i+1]])
	return nil
}

// Bytes is the stored size as a .shark table.
func (m *Mixed) Bytes() int64 {
	var c [NumTiers]int64
	for _, t := range m.Tiers {
		c[t]++
	}
	return TableBytes(m.D, c)
}
