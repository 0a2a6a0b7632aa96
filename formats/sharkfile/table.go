package sharkfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"
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
	slots      []uint32              // tier<<slotShift | rank of every row, once LoadRows has built it
	loaded     []*hugemem.Buffer     // the memory behind mem and slots
	loadOnce   sync.Once
	loadErr    error
	dir        []uint32 // nt per directory entry
	pool       sync.Pool
	// The layout: nt tiers (narrowTiers or core.NumTiers) of codes of
	// bits bits; each tier's row block (nil past nt) and count.
	nt     int
	bits   uint
	blocks [core.NumTiers]*Block
	counts [core.NumTiers]int64
	// Block parameters (version 2): rows per block, the stored
	// parameters, and each block tier's place among a block's (or -1).
	block  int
	params []byte
	pslot  [core.NumTiers]int
	// A table stored as parts (parts.go): the parts in row order, the row
	// each starts at, and whether all but the last have the first's rows.
	parts  []*Table
	starts []int
	even   bool
}

func (rd *Reader) loadTable(e *Entry) (*Table, error) {
	rows := int(e.Shape[0])
	nt := len(e.Counts)
	t := &Table{rd: rd, e: e, rows: rows, dim: int(e.Shape[1]), nt: nt, bits: uint(codeBits(nt))}
	copy(t.blocks[:], e.Rows)
	copy(t.counts[:], e.Counts)
	t.codes = make([]byte, e.Codes.Len)
	if err := rd.readChecked(e.Codes, t.codes, 0); err != nil {
		return nil, fmt.Errorf("table %q: %w", e.Name, err)
	}
	db := make([]byte, e.Dir.Len)
	if err := rd.readChecked(e.Dir, db, 0); err != nil {
		return nil, fmt.Errorf("table %q: %w", e.Name, err)
	}
	// Entry 0 (rows before row 0: all zero) is implicit on disk.
	t.dir = make([]uint32, nt+len(db)/4)
	for i := range t.dir[nt:] {
		t.dir[nt+i] = binary.LittleEndian.Uint32(db[4*i:])
	}
	if err := t.checkIndex(); err != nil {
		return nil, err
	}
	t.words = make([]uint64, (len(t.codes)+7)/8)
	for i, c := range t.codes {
		t.words[i/8] |= uint64(c) << (8 * (i % 8))
	}
	if err := t.loadParams(); err != nil {
		return nil, err
	}
	return t, nil
}

// checkIndex checks that the directory is what the codes say, and the
// counts too, and that every code names a tier of the layout.
func (t *Table) checkIndex() error {
	e, nt := t.e, t.nt
	per := 8 / int(t.bits)
	mask := byte(1)<<t.bits - 1
	var cnt [core.NumTiers]uint32
	for r := 0; r < t.rows; r++ {
		if r%DirEvery == 0 {
			k := nt * (r / DirEvery)
			if !slices.Equal(t.dir[k:k+nt], cnt[:nt]) {
				return corrupt(e.Dir.Off+int64(4*(k-nt)), "table %q: directory entry %d disagrees with the tier codes", e.Name, k/nt)
			}
		}
		c := (t.codes[r/per] >> (t.bits * uint(r%per))) & mask
		if int(c) >= nt {
			return corrupt(e.Codes.Off+int64(r/per), "table %q: row %d has tier code %d", e.Name, r, c)
		}
		cnt[c]++
	}
	for k := range nt {
		if int64(cnt[k]) != e.Counts[k] {
			return corrupt(e.Codes.Off, "table %q: %d rows coded %v, header says %d", e.Name, cnt[k], core.Tier(k), e.Counts[k])
		}
	}
	if t.rows%per != 0 && t.codes[len(t.codes)-1]>>(t.bits*uint(t.rows%per)) != 0 {
		return corrupt(e.Codes.Off+int64(len(t.codes)-1), "table %q: unused tier-code bits are not zero", e.Name)
	}
	return nil
}

// loadParams reads the block parameters, whose size the header check has
// bounded by the file's.
func (t *Table) loadParams() error {
	e := t.e
	for i := range t.pslot {
		t.pslot[i] = -1
	}
	for i, bt := range e.BlockTiers {
		t.pslot[bt] = i
	}
	if e.Params == nil {
		return nil
	}
	t.block = int(e.Block)
	t.params = make([]byte, e.Params.Len)
	if err := t.rd.readChecked(e.Params, t.params, 0); err != nil {
		return fmt.Errorf("table %q: %w", e.Name, err)
	}
	return nil
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

func (t *Table) Name() string                 { return t.e.Name }
func (t *Table) Rows() int                    { return t.rows }
func (t *Table) Dim() int                     { return t.dim }
func (t *Table) Entry() *Entry                { return t.e }
func (t *Table) Counts() [core.NumTiers]int64 { return t.counts }

// Wide reports whether the table is stored in version 2's layout of every
// tier (it uses a tier after int4).
func (t *Table) Wide() bool { return t.nt != narrowTiers }

// Block is the rows per block of the table's block tiers (0 if it has no
// block-tier rows).
func (t *Table) Block() int { return t.block }

// Tier returns row r's tier.
func (t *Table) Tier(r int) core.Tier {
	if t.parts != nil {
		p, pr := t.part(r)
		return p.Tier(pr)
	}
	per := 8 / int(t.bits)
	return core.Tier((t.codes[r/per] >> (t.bits * uint(r%per))) & (1<<t.bits - 1))
}

// locate returns row r's tier and its rank among the rows of that tier:
// the directory's count at the start of r's 256-row block plus popcounts
// over at most eight (2-bit codes) or sixteen (4-bit) 64-bit words.
func (t *Table) locate(r int) (core.Tier, int64) {
	if t.bits == 4 {
		return t.locate4(r)
	}
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

// locate4 is locate over 4-bit codes, sixteen rows a word.
func (t *Table) locate4(r int) (core.Tier, int64) {
	w := r / 16
	tier := core.Tier(t.words[w]>>(4*(r%16))) & 15
	blk := r / DirEvery
	rank := int64(t.dir[t.nt*blk+int(tier)])
	pat := uint64(tier) * 0x1111111111111111 // the tier in every 4-bit field
	for i := blk * (DirEvery / 16); i <= w; i++ {
		x := ^(t.words[i] ^ pat) // fields equal to tier become 1111
		x &= x >> 2
		eq := x & (x >> 1) & 0x1111111111111111
		if i == w {
			eq &= uint64(1)<<(4*(r%16)) - 1 // rows before r only
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
	if err := t.rd.readChecked(t.blocks[tier], buf[n:], rank*int64(rb)); err != nil {
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
		tier, raw = t.rowwise(tier, r, raw)
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
	out := make([]int64, 0, t.counts[tier])
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
	if t.blocks[tier] == nil {
		return bytes.NewReader(nil) // a tier a version-1 table has no block for
	}
	return &blockReader{rd: t.rd, b: t.blocks[tier]}
}

// verifyScales checks that every fp16 row's values, and every int8 and
// int4 row's fp16 scale and bias, are finite numbers: a writer keeps a row
// out of a tier that cannot hold it, so an infinity or a NaN there is one
// the source did not hold (a row with one is stored at fp32).
func (t *Table) verifyScales() error {
	if t.parts != nil {
		return t.eachPart((*Table).verifyScales)
	}
	if i := nonFiniteParams(t.params); i >= 0 {
		return corrupt(t.e.Params.Off+i, "table %q: a block's scale or bias is not a finite number", t.e.Name)
	}
	for _, tier := range []core.Tier{core.FP16, core.INT8, core.INT4, core.INT2} {
		b := t.blocks[tier]
		if b == nil {
			continue
		}
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

// nonFiniteParams is the offset in p, block parameters, of the first
// binary16 that is an infinity or a NaN, or -1.
func nonFiniteParams(p []byte) int64 {
	for i := 0; i+1 < len(p); i += 2 {
		if binary.LittleEndian.Uint16(p[i:])&0x7c00 == 0x7c00 {
			return int64(i)
		}
	}
	return -1
}

// BlockParams is the table's block parameters as stored (nil when no row
// takes a block tier), for writing its rows again as they are
// (TableInfo.Params). Nil for a table stored as parts, whose parts hold
// their own.
func (t *Table) BlockParams() *core.BlockParams {
	if t.params == nil || t.parts != nil {
		return nil
	}
	tiers := make([]core.Tier, len(t.e.BlockTiers))
	for i, bt := range t.e.BlockTiers {
		tiers[i] = core.Tier(bt)
	}
	vals := make([]uint16, len(t.params)/2)
	for i := range vals {
		vals[i] = binary.LittleEndian.Uint16(t.params[2*i:])
	}
	bp, err := core.NewBlockParams(int64(t.rows), t.block, tiers, vals)
	if err != nil {
		return nil // the header check admitted only what NewBlockParams takes
	}
	return bp
}

// blockParams is the fp16 scale and bias (4 bytes) of row r's block for
// block tier tier.
func (t *Table) blockParams(tier core.Tier, r int) []byte {
	k := len(t.e.BlockTiers)
	i := 4 * ((r/t.block)*k + t.pslot[tier])
	return t.params[i : i+4]
}

// rowwise returns a row read as stored, raw of tier tier, as a rowwise
// row: a block-tier row's codes followed by its block's scale and bias
// (appended to raw, whose capacity it may use), and its rowwise tier.
// Other rows are returned as they are.
func (t *Table) rowwise(tier core.Tier, r int, raw []byte) (core.Tier, []byte) {
	if !tier.Block() {
		return tier, raw
	}
	return tier.Rowwise(), append(raw, t.blockParams(tier, r)...)
}

// RowwiseRow returns row r's bytes as a rowwise row and its tier: as
// RawRow, but a block-tier row comes back as the rowwise row of its code
// width (int4 for int4-block) with its block's scale and bias, which
// decodes to the same values.
func (t *Table) RowwiseRow(r int, buf []byte) (core.Tier, []byte, error) {
	if t.parts != nil && r >= 0 && r < t.rows {
		p, pr := t.part(r)
		return p.RowwiseRow(pr, buf)
	}
	tier, raw, err := t.RawRow(r, buf)
	if err != nil {
		return 0, nil, err
	}
	tier, raw = t.rowwise(tier, r, raw)
	return tier, raw, nil
}

// RowwiseTierReader streams the rows of one tier as rowwise rows, checked:
// TierReader's bytes, but a block tier's rows each followed by its block's
// scale and bias (RowwiseRow), so that they are rows of the rowwise tier
// of their code width.
func (t *Table) RowwiseTierReader(tier core.Tier) io.Reader {
	if !tier.Block() {
		return t.TierReader(tier)
	}
	if t.parts != nil {
		var rs []io.Reader
		for _, p := range t.parts {
			rs = append(rs, p.RowwiseTierReader(tier))
		}
		return io.MultiReader(rs...)
	}
	return &rowwiseReader{t: t, tier: tier, codes: t.TierReader(tier), rb: tier.RowBytes(t.dim)}
}

// rowwiseReader is RowwiseTierReader of a block tier: the tier's codes
// read in order, each row's block found from the tier codes.
type rowwiseReader struct {
	t     *Table
	tier  core.Tier
	codes io.Reader
	rb    int
	r     int // the next row to look at
	buf   []byte
}

func (x *rowwiseReader) Read(p []byte) (int, error) {
	if len(x.buf) == 0 {
		if err := x.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, x.buf)
	x.buf = x.buf[n:]
	return n, nil
}

// fill reads the next rows of the tier, up to about 64 KiB of them.
func (x *rowwiseReader) fill() error {
	t := x.t
	b := x.buf[:0]
	for ; x.r < t.rows && len(b) < 1<<16; x.r++ {
		if t.Tier(x.r) != x.tier {
			continue
		}
		n := len(b)
		b = append(b, make([]byte, x.rb)...)
		if _, err := io.ReadFull(x.codes, b[n:]); err != nil {
			return fmt.Errorf("table %q: %w", t.e.Name, err)
		}
		b = append(b, t.blockParams(x.tier, x.r)...)
	}
	if len(b) == 0 {
		return io.EOF
	}
	x.buf = b
	return nil
}
