package sharkfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"sync"

	"shark/core"
	"shark/formats"
	"shark/internal/hugemem"
)

// Table is a compressed table with O(1) row access.
type Table struct {
	verifyOnce sync.Once
	verifyErr  error
	rd         *Reader
	e          *Entry
	rows       int
	dim        int
	codes      []byte
	words      []uint64              // codes as little-endian words, 32 rows each, for popcounts
	mem        [core.NumTiers][]byte // the rows of each tier, once LoadRows has read them
	slots      []uint32              // tier<<30 | rank of every row, once LoadRows has built it
	loaded     []*hugemem.Buffer     // the memory behind mem and slots
	loadOnce   sync.Once
	loadErr    error
	dir        []uint32 // 4 per directory entry
	pool       sync.Pool
	// A table stored as parts (parts.go): the parts in row order, the row
	// each starts at, and whether all but the last have the first's rows.
	parts  []*Table
	starts []int
	even   bool
}

func (rd *Reader) loadTable(e *Entry) (*Table, error) {
	rows := int(e.Shape[0])
	t := &Table{rd: rd, e: e, rows: rows, dim: int(e.Shape[1])}
	t.codes = make([]byte, e.Codes.Len)
	if err := rd.readChecked(e.Codes, t.codes, 0); err != nil {
		return nil, fmt.Errorf("table %q: %w", e.Name, err)
	}
	db := make([]byte, e.Dir.Len)
	if err := rd.readChecked(e.Dir, db, 0); err != nil {
		return nil, fmt.Errorf("table %q: %w", e.Name, err)
	}
	// Entry 0 (rows before row 0: all zero) is implicit on disk.
	t.dir = make([]uint32, 4+len(db)/4)
	for i := range t.dir[4:] {
		t.dir[4+i] = binary.LittleEndian.Uint32(db[4*i:])
	}
	// The directory must be what the codes say, and the counts too.
	var cnt [4]uint32
	for r := 0; r < rows; r++ {
		if r%DirEvery == 0 {
			k := 4 * (r / DirEvery)
			if t.dir[k] != cnt[0] || t.dir[k+1] != cnt[1] || t.dir[k+2] != cnt[2] || t.dir[k+3] != cnt[3] {
				return nil, corrupt(e.Dir.Off+int64(4*k-16), "table %q: directory entry %d disagrees with the tier codes", e.Name, k/4)
			}
		}
		cnt[(t.codes[r/4]>>(2*(r%4)))&3]++
	}
	for k := range cnt {
		if int64(cnt[k]) != e.Counts[k] {
			return nil, corrupt(e.Codes.Off, "table %q: %d rows coded %v, header says %d", e.Name, cnt[k], core.Tier(k), e.Counts[k])
		}
	}
	t.words = make([]uint64, (len(t.codes)+7)/8)
	for i, c := range t.codes {
		t.words[i/8] |= uint64(c) << (8 * (i % 8))
	}
	if rows%4 != 0 && t.codes[len(t.codes)-1]>>(2*(rows%4)) != 0 {
		return nil, corrupt(e.Codes.Off+int64(len(t.codes)-1), "table %q: unused tier-code bits are not zero", e.Name)
	}
	return t, nil
}

// Table returns the compressed table name.
func (rd *Reader) Table(tname string) (*Table, error) {
	if t, ok := rd.tables[tname]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%w: no compressed table %q", formats.ErrNotFound, tname)
}

// Tables lists the compressed tables in file order.
func (rd *Reader) Tables() []*Table {
	var out []*Table
	for i := range rd.Header.Tensors {
		if t, ok := rd.tables[rd.Header.Tensors[i].Name]; ok {
			out = append(out, t)
		}
	}
	return out
}

func (t *Table) Name() string  { return t.e.Name }
func (t *Table) Rows() int     { return t.rows }
func (t *Table) Dim() int      { return t.dim }
func (t *Table) Entry() *Entry { return t.e }
func (t *Table) Counts() [4]int64 {
	return [4]int64{t.e.Counts[0], t.e.Counts[1], t.e.Counts[2], t.e.Counts[3]}
}

// Tier returns row r's tier.
func (t *Table) Tier(r int) core.Tier {
	if t.parts != nil {
		p, pr := t.part(r)
		return p.Tier(pr)
	}
	return core.Tier((t.codes[r/4] >> (2 * (r % 4))) & 3)
}

// locate returns row r's tier and its rank among the rows of that tier:
// the directory's count at the start of r's 256-row block plus popcounts
// over at most eight 64-bit words of codes.
func (t *Table) locate(r int) (core.Tier, int64) {
	w := r / 32
	tier := core.Tier(t.words[w]>>(2*(r%32))) & 3
	blk := r / DirEvery
	rank := int64(t.dir[4*blk+int(tier)])
	pat := uint64(tier) * 0x5555555555555555 // the tier in every 2-bit field
	for i := blk * (DirEvery / 32); i <= w; i++ {
		x := ^(t.words[i] ^ pat) // fields equal to tier become 11
		eq := x & (x >> 1) & 0x5555555555555555
		if i == w {
			eq &= uint64(1)<<(2*(r%32)) - 1 // rows before r only
		}
		rank += int64(bits.OnesCount64(eq))
	}
	return tier, rank
}

// RawRow returns row r's tier and its encoded bytes, appended to buf.
func (t *Table) RawRow(r int, buf []byte) (core.Tier, []byte, error) {
	if r < 0 || r >= t.rows {
		return 0, nil, fmt.Errorf("table %q: row %d out of range [0, %d)", t.e.Name, r, t.rows)
	}
	if t.parts != nil {
		p, pr := t.part(r)
		return p.RawRow(pr, buf)
	}
	tier, rank := t.locate(r)
	rb := tier.RowBytes(t.dim)
	n := len(buf)
	buf = append(buf, make([]byte, rb)...)
	if err := t.rd.readChecked(t.e.Rows[tier], buf[n:], rank*int64(rb)); err != nil {
		return 0, nil, fmt.Errorf("table %q row %d: %w", t.e.Name, r, err)
	}
	return tier, buf, nil
}

// Row reads row r dequantized into dst[:Dim()]. Safe for concurrent use.
func (t *Table) Row(r int, dst []float32) error {
	if r < 0 || r >= t.rows {
		return fmt.Errorf("table %q: row %d out of range [0, %d)", t.e.Name, r, t.rows)
	}
	if t.parts != nil {
		p, pr := t.part(r)
		return p.Row(pr, dst)
	}
	bp, _ := t.pool.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 4*t.dim)
		bp = &b
	}
	tier, raw, err := t.RawRow(r, (*bp)[:0])
	if err == nil {
		core.DecodeRow(tier, dst[:t.dim], raw)
	}
	*bp = raw
	t.pool.Put(bp)
	return err
}

// IDs returns the row ids stored in tier tier, ascending.
func (t *Table) IDs(tier core.Tier) []int64 {
	if t.parts != nil {
		return t.partsIDs(tier)
	}
	out := make([]int64, 0, t.e.Counts[tier])
	for r := 0; r < t.rows; r++ {
		if t.Tier(r) == tier {
			out = append(out, int64(r))
		}
	}
	return out
}

// TierReader streams the encoded rows of one tier, checked.
func (t *Table) TierReader(tier core.Tier) io.Reader {
	if t.parts != nil {
		return t.partsTierReader(tier)
	}
	return &blockReader{rd: t.rd, b: t.e.Rows[tier]}
}

// verifyScales checks that every fp16 row's values, and every int8 and
// int4 row's fp16 scale and bias, are finite numbers: a writer keeps a row
// out of a tier that cannot hold it, so an infinity or a NaN there is one
// the source did not hold (a row with one is stored at fp32).
func (t *Table) verifyScales() error {
	if t.parts != nil {
		return t.eachPart((*Table).verifyScales)
	}
	for _, tier := range []core.Tier{core.FP16, core.INT8, core.INT4} {
		b := t.e.Rows[tier]
		rb := int64(tier.RowBytes(t.dim))
		rows := max(1, ChunkSize/rb)
		buf := make([]byte, min(rows*rb, b.Len))
		for off := int64(0); off < b.Len; off += rows * rb {
			p := buf[:min(rows*rb, b.Len-off)]
			if err := t.rd.readChecked(b, p, off); err != nil {
				return fmt.Errorf("table %q: %w", t.e.Name, err)
			}
			if i := nonFiniteHalf(tier, p, rb); i >= 0 {
				what := "scale or bias"
				if tier == core.FP16 {
					what = "value"
				}
				return corrupt(b.Off+off+i, "table %q: an %v row's %s is not a finite number", t.e.Name, tier, what)
			}
		}
	}
	return nil
}

// nonFiniteHalf is the offset in p, rows of rb bytes of tier, of the first
// binary16 that is an infinity or a NaN (every half of an fp16 row; the
// scale and bias at the end of an int8 or int4 row), or -1.
func nonFiniteHalf(tier core.Tier, p []byte, rb int64) int64 {
	for r := int64(0); r*rb < int64(len(p)); r++ {
		row := p[r*rb : (r+1)*rb]
		from := rb - 4
		if tier == core.FP16 {
			from = 0
		}
		for i := from; i+1 < rb; i += 2 {
			if binary.LittleEndian.Uint16(row[i:])&0x7c00 == 0x7c00 {
				return r*rb + i
			}
		}
	}
	return -1
}
