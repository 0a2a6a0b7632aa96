package sharkfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/vmihailenco/msgpack/v5"

	"shark/core"
	"shark/internal/hugemem"
	"shark/core/kernels"
	"shark/formats"
)

const name = "shark"

func init() {
	formats.Register(formats.Format{
		Name:  name,
		Match: func(h []byte) bool { return bytes.HasPrefix(h, []byte(Magic)) },
		Open: func(r io.ReaderAt, size int64) (*formats.File, error) {
			rd, err := NewReader(r, size)
			if err != nil {
				return nil, err
			}
			return rd.File(), nil
		},
	})
}

func corrupt(off int64, msg string, args ...any) error {
	return formats.Errorf(name, off, formats.ErrCorrupt, msg, args...)
}

// Reader gives checked random access to a .shark file through io.ReaderAt,
// without reading the data blocks until they are used.
type Reader struct {
	data   []byte // the whole file, when it is memory-mapped
	r      io.ReaderAt
	size   int64
	Header Header
	blocks map[*Block]*verified
	tables map[string]*Table
	dense  map[string]*Entry
}

// verified remembers which chunks of a block have passed their checksum.
type verified struct {
	ok []atomic.Bool
}

// NewReader reads and checks the preamble, trailer, header and every table's
// index. Data chunks are checked on first use; Verify checks them all.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	if size < core.Align+TrailerSize {
		return nil, corrupt(0, "file of %d bytes is shorter than the smallest .shark file", size)
	}
	pre := make([]byte, core.Align)
	if _, err := r.ReadAt(pre, 0); err != nil {
		return nil, corrupt(0, "reading preamble: %v", err)
	}
	if !bytes.HasPrefix(pre, []byte(Magic)) {
		return nil, corrupt(0, "missing .shark magic")
	}
	if major := binary.LittleEndian.Uint16(pre[8:]); major != Major {
		return nil, formats.Errorf(name, 8, formats.ErrUnsupported, "container version %d (this shark reads version %d)", major, Major)
	}
	for i, c := range pre[12:] {
		if c != 0 {
			return nil, corrupt(int64(12+i), "non-zero byte in the preamble's padding")
		}
	}
	var tr [TrailerSize]byte
	toff := size - TrailerSize
	if _, err := r.ReadAt(tr[:], toff); err != nil && err != io.EOF {
		return nil, corrupt(toff, "reading trailer: %v", err)
	}
	if string(tr[24:]) != EndMagic {
		return nil, corrupt(toff+24, "missing end magic: the file is truncated or was not finished")
	}
	if crc32.Checksum(tr[:20], castagnoli) != binary.LittleEndian.Uint32(tr[20:]) {
		return nil, formats.Errorf(name, toff, formats.ErrChecksum, "trailer checksum")
	}
	hoff := int64(binary.LittleEndian.Uint64(tr[0:]))
	hlen := int64(binary.LittleEndian.Uint64(tr[8:]))
	if hlen < 0 || hlen > MaxHeader || hoff < core.Align || hoff%core.Align != 0 || hoff > toff || hoff+hlen != toff {
		return nil, corrupt(toff, "header at %d of %d bytes does not end at the trailer (%d)", hoff, hlen, toff)
	}
	hb := make([]byte, hlen)
	if _, err := r.ReadAt(hb, hoff); err != nil && err != io.EOF {
		return nil, corrupt(hoff, "reading header: %v", err)
	}
	if crc32.Checksum(hb, castagnoli) != binary.LittleEndian.Uint32(tr[16:]) {
		return nil, formats.Errorf(name, hoff, formats.ErrChecksum, "header checksum")
	}
	rd := &Reader{r: r, size: size, blocks: map[*Block]*verified{}, tables: map[string]*Table{}, dense: map[string]*Entry{}}
	if m, ok := r.(mappedAt); ok && int64(len(m)) == size {
		rd.data = m
	}
	if err := msgpack.Unmarshal(hb, &rd.Header); err != nil {
		return nil, corrupt(hoff, "decoding header: %v", err)
	}
	if minor := binary.LittleEndian.Uint16(pre[10:]); int(minor) != rd.Header.Minor || rd.Header.Major != Major {
		return nil, corrupt(10, "preamble says version %d.%d, header says %d.%d", Major, minor, rd.Header.Major, rd.Header.Minor)
	}
	if err := rd.check(hoff); err != nil {
		return nil, err
	}
	return rd, nil
}

// check validates the header against the file: sizes, tiling, checksums count.
func (rd *Reader) check(hoff int64) error {
	h := &rd.Header
	if h.Chunk != ChunkSize {
		return corrupt(hoff, "checksum chunk of %d bytes (want %d)", h.Chunk, ChunkSize)
	}
	var all []*Block
	add := func(e *Entry, what string, b *Block, want int64) error {
		if b == nil {
			return corrupt(hoff, "tensor %q has no %s block", e.Name, what)
		}
		if b.Len != want {
			return corrupt(b.Off, "tensor %q: %s block of %d bytes, its shape needs %d", e.Name, what, b.Len, want)
		}
		if b.Len < 0 || b.Len > hoff || b.Off < core.Align || b.Off%core.Align != 0 || b.Off > hoff || core.AlignUp(b.Len) > hoff-b.Off {
			return corrupt(b.Off, "tensor %q: %s block [%d, +%d) outside the data area [64, %d)", e.Name, what, b.Off, b.Len, hoff)
		}
		if int64(len(b.CRC)) != b.chunks() {
			return corrupt(hoff, "tensor %q: %s block has %d checksums, needs %d", e.Name, what, len(b.CRC), b.chunks())
		}
		all = append(all, b)
		rd.blocks[b] = &verified{ok: make([]atomic.Bool, b.chunks())}
		return nil
	}
	for i := range h.Tensors {
		e := &h.Tensors[i]
		if e.Name == "" || rd.dense[e.Name] != nil || rd.tables[e.Name] != nil {
			return corrupt(hoff, "tensor %d has an empty or repeated name %q", i, e.Name)
		}
		switch e.Kind {
		case KindDense:
			d := formats.DType(e.DType)
			_, nb, err := formats.ShapeBytes(e.Shape, d)
			if err != nil {
				return corrupt(hoff, "tensor %q: %v", e.Name, err)
			}
			if err := add(e, "data", e.Data, nb); err != nil {
				return err
			}
			rd.dense[e.Name] = e
		case KindTable:
			if len(e.Shape) != 2 || e.Shape[0] < 0 || e.Shape[0] > MaxRows || e.Shape[1] < 1 || e.Shape[1] > 1<<24 {
				return corrupt(hoff, "table %q: bad shape %v", e.Name, e.Shape)
			}
			rows, dim := e.Shape[0], int(e.Shape[1])
			if int64(dim) > hoff {
				return corrupt(hoff, "table %q: dim %d is larger than the file's data", e.Name, dim)
			}
			if len(e.Rows) != core.NumTiers || len(e.Counts) != core.NumTiers {
				return corrupt(hoff, "table %q: needs %d tier blocks and counts", e.Name, core.NumTiers)
			}
			if err := add(e, "codes", e.Codes, core.CodesBytes(rows)); err != nil {
				return err
			}
			if err := add(e, "dir", e.Dir, core.DirBytes(rows)); err != nil {
				return err
			}
			var sum int64
			for t := core.Tier(0); t < core.NumTiers; t++ {
				c := e.Counts[t]
				if c < 0 || c > rows {
					return corrupt(hoff, "table %q: %d rows in %v of %d", e.Name, c, t, rows)
				}
				sum += c
				if err := add(e, t.String(), e.Rows[t], c*int64(t.RowBytes(dim))); err != nil {
					return err
				}
			}
			if sum != rows {
				return corrupt(hoff, "table %q: tier counts sum to %d, not %d rows", e.Name, sum, rows)
			}
		default:
			return corrupt(hoff, "tensor %q has unknown kind %q", e.Name, e.Kind)
		}
	}
	// The blocks must tile [64, hoff): every byte before the header is then
	// under some checksum, and no two tensors share bytes.
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Off != all[j].Off {
			return all[i].Off < all[j].Off
		}
		return all[i].Len < all[j].Len
	})
	at := int64(core.Align)
	for _, b := range all {
		if b.Off != at {
			return corrupt(b.Off, "blocks do not tile the data area: expected a block at %d, found one at %d", at, b.Off)
		}
		at += core.AlignUp(b.Len)
	}
	if at != hoff {
		return corrupt(at, "data area ends at %d but the header starts at %d", at, hoff)
	}
	for i := range h.Tensors {
		if e := &h.Tensors[i]; e.Kind == KindTable {
			t, err := rd.loadTable(e)
			if err != nil {
				return err
			}
			rd.tables[e.Name] = t
		}
	}
	return nil
}

// readChecked reads [off, off+len(p)) of block b, verifying each chunk it
// touches the first time it is touched.
func (rd *Reader) readChecked(b *Block, p []byte, off int64) error {
	v := rd.blocks[b]
	if off < 0 || off+int64(len(p)) > b.Len {
		return corrupt(b.Off+off, "read of %d bytes past the block's %d", len(p), b.Len)
	}
	for c := off / ChunkSize; c*ChunkSize < off+int64(len(p)); c++ {
		if err := rd.checkChunk(b, v, c); err != nil {
			return err
		}
	}
	if _, err := rd.r.ReadAt(p, b.Off+off); err != nil && !(err == io.EOF && len(p) == 0) {
		return corrupt(b.Off+off, "reading: %v", err)
	}
	return nil
}

// checkChunk verifies chunk c of block b unless it already passed.
func (rd *Reader) checkChunk(b *Block, v *verified, c int64) error {
	if v.ok[c].Load() {
		return nil
	}
	start := c * ChunkSize
	n := min(ChunkSize, b.padded()-start)
	buf := make([]byte, n)
	if _, err := rd.r.ReadAt(buf, b.Off+start); err != nil && err != io.EOF {
		return corrupt(b.Off+start, "reading: %v", err)
	}
	if crc32.Checksum(buf, castagnoli) != b.CRC[c] {
		return formats.Errorf(name, b.Off+start, formats.ErrChecksum, "block at %d, bytes %d..%d", b.Off, start, start+n)
	}
	v.ok[c].Store(true)
	return nil
}

// Verify checks every checksum in the file.
func (rd *Reader) Verify() error {
	for i := range rd.Header.Tensors {
		e := &rd.Header.Tensors[i]
		bs := append([]*Block{e.Data, e.Codes, e.Dir}, e.Rows...)
		for _, b := range bs {
			if b == nil {
				continue
			}
			v := rd.blocks[b]
			for c := range v.ok {
				if err := rd.checkChunk(b, v, int64(c)); err != nil {
					return fmt.Errorf("tensor %q: %w", e.Name, err)
				}
			}
		}
	}
	return nil
}

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
}

var tierCount = func() (t [256][4]uint8) {
	for b := 0; b < 256; b++ {
		for k := 0; k < 4; k++ {
			t[b][(b>>(2*k))&3]++
		}
	}
	return
}()

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
		if r%core.DirEvery == 0 {
			k := 4 * (r / core.DirEvery)
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
func (t *Table) Tier(r int) core.Tier { return core.Tier((t.codes[r/4] >> (2 * (r % 4))) & 3) }

// locate returns row r's tier and its rank among the rows of that tier:
// the directory's count at the start of r's 256-row block plus popcounts
// over at most eight 64-bit words of codes.
func (t *Table) locate(r int) (core.Tier, int64) {
	w := r / 32
	tier := core.Tier(t.words[w]>>(2*(r%32))) & 3
	blk := r / core.DirEvery
	rank := int64(t.dir[4*blk+int(tier)])
	pat := uint64(tier) * 0x5555555555555555 // the tier in every 2-bit field
	for i := blk * (core.DirEvery / 32); i <= w; i++ {
		x := ^(t.words[i] ^ pat) // fields equal to tier become 11
		eq := x & (x >> 1) & 0x5555555555555555
		if i == w {
			eq &= uint64(1)<<(2*(r%32)) - 1 // rows before r only
		}
		rank += int64(bits.OnesCount64(eq))
	}
	return tier, rank
}

// rowBytes locates row r through the file's index and returns its encoded
// bytes: from memory once LoadRows has read them, in place if the file is
// mapped, read and checked otherwise.
func (t *Table) rowBytes(r int) (core.Tier, []byte, error) {
	if t.rd.data == nil && t.mem[0] == nil {
		return t.RawRow(r, nil)
	}
	tier, rank := t.locate(r)
	rb := int64(tier.RowBytes(t.dim))
	if t.mem[tier] != nil {
		return tier, t.mem[tier][rank*rb : rank*rb+rb], nil
	}
	off := t.e.Rows[tier].Off + rank*rb
	return tier, t.rd.data[off : off+rb], nil
}

// addRow adds an encoded row of the given tier to dst.
func addRow(tier core.Tier, dst []float32, raw []byte) {
	switch tier {
	case core.FP32:
		kernels.AddRowF32(dst, raw)
	case core.FP16:
		kernels.AddRowF16(dst, raw)
	case core.INT8:
		kernels.AddRowNBit(8, dst, raw)
	case core.INT4:
		kernels.AddRowNBit(4, dst, raw)
	}
}

// poolLoaded is PoolBags over rows that LoadRows has read, found through
// its serving index, in the groups of core.PoolGroup: while a group's rows
// are touched, so are the index entries of the next group. The ids are in
// range and dst is cleared.
func (t *Table) poolLoaded(ids, offsets []int, dst []float32) {
	const group = core.PoolGroup
	var (
		slots, next [group]uint32
		raws        [group][]byte
		sink        byte
	)
	for j, id := range ids[:min(group, len(ids))] {
		slots[j] = t.slots[id]
	}
	var rb [core.NumTiers]int
	for tier := range rb {
		rb[tier] = core.Tier(tier).RowBytes(t.dim)
	}
	dim := t.dim
	bag := 0
	for g := 0; g < len(ids); g += group {
		k := min(group, len(ids)-g)
		for j, s := range slots[:k] {
			tier, rank := s>>30, int(s&(1<<30-1))
			n := rb[tier]
			raws[j] = t.mem[tier][rank*n : rank*n+n]
		}
		for j, id := range ids[g+k : min(g+k+group, len(ids))] {
			next[j] = t.slots[id]
		}
		sink ^= core.Touch(raws[:k])
		for j, raw := range raws[:k] {
			for g+j >= offsets[bag+1] {
				bag++
			}
			out := dst[bag*dim : (bag+1)*dim]
			// addRow written out: it is too large to inline, and this is
			// the loop every lookup runs.
			switch core.Tier(slots[j] >> 30) {
			case core.FP32:
				kernels.AddRowF32(out, raw)
			case core.FP16:
				kernels.AddRowF16(out, raw)
			case core.INT8:
				kernels.AddRowNBit(8, out, raw)
			default:
				kernels.AddRowNBit(4, out, raw)
			}
		}
		slots = next
	}
	core.TouchSink.Store(uint32(sink))
}

// RawRow returns row r's tier and its encoded bytes, appended to buf.
func (t *Table) RawRow(r int, buf []byte) (core.Tier, []byte, error) {
	if r < 0 || r >= t.rows {
		return 0, nil, fmt.Errorf("table %q: row %d out of range [0, %d)", t.e.Name, r, t.rows)
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
	return &blockReader{rd: t.rd, b: t.e.Rows[tier]}
}

type blockReader struct {
	rd  *Reader
	b   *Block
	off int64
}

func (br *blockReader) Read(p []byte) (int, error) {
	if br.off >= br.b.Len {
		return 0, io.EOF
	}
	n := min(int64(len(p)), br.b.Len-br.off, ChunkSize)
	if err := br.rd.readChecked(br.b, p[:n], br.off); err != nil {
		return 0, err
	}
	br.off += n
	return int(n), nil
}

// tableReader streams a table dequantized to little-endian float32.
type tableReader struct {
	t   *Table
	r   int
	row []float32
	buf []byte
}

func (tr *tableReader) Read(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(tr.buf) == 0 {
			if tr.r >= tr.t.rows {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			if err := tr.t.Row(tr.r, tr.row); err != nil {
				return n, err
			}
			tr.r++
			tr.buf = formats.EncodeFloat32(tr.buf[:0], tr.row)
		}
		c := copy(p, tr.buf)
		p, tr.buf, n = p[c:], tr.buf[c:], n+c
	}
	return n, nil
}

// File describes the container as a formats.File: dense tensors as stored,
// compressed tables as float32 read back dequantized.
func (rd *Reader) File() *formats.File {
	f := &formats.File{Meta: rd.Header.Provenance}
	for i := range rd.Header.Tensors {
		e := &rd.Header.Tensors[i]
		if e.Kind == KindDense {
			d := formats.DType(e.DType)
			f.Tensors = append(f.Tensors, formats.NewTensorStream(e.Name, d, e.Shape, e.Data.Len, func() (io.ReadCloser, error) {
				return io.NopCloser(&blockReader{rd: rd, b: e.Data}), nil
			}))
			continue
		}
		t := rd.tables[e.Name]
		tiers := t.Counts()
		ft := formats.NewTensorStream(e.Name, formats.F32, e.Shape, e.Shape[0]*e.Shape[1]*4, func() (io.ReadCloser, error) {
			return io.NopCloser(&tableReader{t: t, row: make([]float32, t.dim)}), nil
		})
		ft.Tiers = &tiers
		f.Tensors = append(f.Tensors, ft)
	}
	return f
}

// Dense streams a dense tensor's bytes, checked.
func (rd *Reader) Dense(tname string) (*Entry, io.Reader, error) {
	e, ok := rd.dense[tname]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no dense tensor %q", formats.ErrNotFound, tname)
	}
	return e, &blockReader{rd: rd, b: e.Data}, nil
}

// VerifyRows checks every checksum of the table's row blocks once, after
// which Pool reads rows of a memory-mapped file in place, without a copy.
func (t *Table) VerifyRows() error {
	t.verifyOnce.Do(func() {
		for _, b := range t.e.Rows {
			v := t.rd.blocks[b]
			for c := range v.ok {
				if err := t.rd.checkChunk(b, v, int64(c)); err != nil {
					t.verifyErr = fmt.Errorf("table %q: %w", t.e.Name, err)
					return
				}
			}
		}
	})
	return t.verifyErr
}

// LoadRows reads the table's rows into memory, checking every checksum on
// the way, so that Pool reads them from memory on huge pages where the
// system offers them (core/hugemem; outside the Go heap, freed by the
// file's Close or when the table is garbage) rather than through the file
// or its mapping. It also builds a serving index of 4 bytes a row (tier and
// rank), so that a lookup costs one load instead of the file index's
// popcounts: memory traded for lookups per second. The file's own index
// stays under a byte a row. Calls after the first return its result.
func (t *Table) LoadRows() error {
	t.loadOnce.Do(func() { t.loadErr = t.loadRows() })
	return t.loadErr
}

func (t *Table) loadRows() error {
	var bufs []*hugemem.Buffer
	free := func() {
		for _, b := range bufs {
			b.Free()
		}
	}
	var mem [core.NumTiers][]byte
	for tier, b := range t.e.Rows {
		hb := hugemem.Alloc(int(b.Len))
		bufs = append(bufs, hb)
		buf := hb.Bytes
		for off := int64(0); off < b.Len; off += ChunkSize {
			end := min(off+ChunkSize, b.Len)
			if err := t.rd.readChecked(b, buf[off:end], off); err != nil {
				free()
				return fmt.Errorf("table %q: %w", t.e.Name, err)
			}
		}
		mem[tier] = buf
	}
	fits := true // ranks must fit 30 bits; otherwise lookups keep locating
	for _, c := range t.e.Counts {
		fits = fits && c < 1<<30
	}
	var slots []uint32
	if fits {
		hb := hugemem.Alloc(4 * t.rows)
		bufs = append(bufs, hb)
		slots = hb.Uint32s()
		var next [core.NumTiers]uint32
		for r := range slots {
			tier := t.Tier(r)
			slots[r] = uint32(tier)<<30 | next[tier]
			next[tier]++
		}
	}
	// Outside the Go heap: freed by the reader's Close, or when the table
	// is garbage.
	t.loaded = bufs
	runtime.AddCleanup(t, func(bufs []*hugemem.Buffer) {
		for _, b := range bufs {
			b.Free()
		}
	}, bufs)
	t.mem, t.slots = mem, slots
	return nil
}

// Pool sets dst[:Dim()] to the sum of rows ids (the mean if mean is set),
// each dequantized from its tier: an embedding bag lookup. It equals reading
// each row with Row and adding them in order. Safe for concurrent use.
func (t *Table) Pool(ids []int, mean bool, dst []float32) error {
	return t.PoolBags(ids, []int{0, len(ids)}, mean, dst)
}

// PoolBags looks up a batch of bags at once, the way a serving system does:
// bag b is ids[offsets[b]:offsets[b+1]] and its sum (its mean if mean is
// set) goes to dst[b*Dim():(b+1)*Dim()]. Each bag equals Pool of its ids.
// Batching lets the misses of one bag's rows overlap those of the next (see
// core.PoolGroup). Safe for concurrent use.
func (t *Table) PoolBags(ids, offsets []int, mean bool, dst []float32) error {
	if err := t.VerifyRows(); err != nil {
		return err
	}
	nb, err := core.CheckBags(ids, offsets, t.dim, dst)
	if err != nil || nb == 0 {
		return err
	}
	for _, id := range ids {
		if id < 0 || id >= t.rows {
			return fmt.Errorf("table %q: %w: row %d out of range [0, %d)", t.e.Name, core.ErrInvalid, id, t.rows)
		}
	}
	clear(dst[:nb*t.dim])
	if t.slots != nil {
		t.poolLoaded(ids, offsets, dst)
	} else {
		bag := 0
		for i, id := range ids {
			for i >= offsets[bag+1] {
				bag++
			}
			tier, raw, err := t.rowBytes(id)
			if err != nil {
				return err
			}
			addRow(tier, dst[bag*t.dim:(bag+1)*t.dim], raw)
		}
	}
	if mean {
		core.MeanBags(offsets, t.dim, dst)
	}
	return nil
}
