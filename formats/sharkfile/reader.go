package sharkfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/vmihailenco/msgpack/v5"

	"shark/core"
	"shark/formats"
)

const name = "shark"

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
	parts  []*Reader // a table stored as parts: their readers (parts.go)
	// structure is Header.Structure, rebuilt and checked (structure.go).
	structure *formats.Node
}

// verified remembers which chunks of a block have passed their checksum
// and which have failed it, so that reading rows of a damaged chunk does not
// read and hash the whole chunk again for every row.
type verified struct {
	state []atomic.Uint32 // chunkUnchecked, chunkOK or chunkBad
}

const (
	chunkUnchecked = iota
	chunkOK
	chunkBad
)

// NewReader reads and checks the preamble, trailer, header and every table's
// index. Data chunks are checked on first use; Verify checks them all.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	if size < Align+TrailerSize {
		return nil, corrupt(0, "file of %d bytes is shorter than the smallest .shark file", size)
	}
	pre := make([]byte, Align)
	if _, err := r.ReadAt(pre, 0); err != nil {
		return nil, corrupt(0, "reading preamble: %v", err)
	}
	if !bytes.HasPrefix(pre, []byte(Magic)) {
		return nil, corrupt(0, "missing .shark magic")
	}
	major := int(binary.LittleEndian.Uint16(pre[8:]))
	if major != MajorNarrow && major != Major {
		return nil, formats.Errorf(name, 8, formats.ErrUnsupported, "container version %d (this shark reads versions %d and %d)", major, MajorNarrow, Major)
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
	if hlen < 0 || hlen > MaxHeader || hoff < Align || hoff%Align != 0 || hoff > toff || hoff+hlen != toff {
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
	if err := checkMsgpack(hb); err != nil {
		return nil, corrupt(hoff, "header: %v", err)
	}
	if err := msgpack.Unmarshal(hb, &rd.Header); err != nil {
		return nil, corrupt(hoff, "decoding header: %v", err)
	}
	if minor := binary.LittleEndian.Uint16(pre[10:]); int(minor) != rd.Header.Minor || rd.Header.Major != major {
		return nil, corrupt(10, "preamble says version %d.%d, header says %d.%d", major, minor, rd.Header.Major, rd.Header.Minor)
	}
	if rd.Header.Codec != Codec {
		return nil, formats.Errorf(name, hoff, formats.ErrUnsupported, "row codec %q (this shark reads %q)", rd.Header.Codec, Codec)
	}
	if err := rd.check(hoff); err != nil {
		return nil, err
	}
	if err := rd.checkStructure(hoff); err != nil {
		return nil, err
	}
	return rd, nil
}

// check validates the header against the file: names, sizes, tiling,
// checksum counts; then reads every table's index.
func (rd *Reader) check(hoff int64) error {
	h := &rd.Header
	if h.Chunk != ChunkSize {
		return corrupt(hoff, "checksum chunk of %d bytes (want %d)", h.Chunk, ChunkSize)
	}
	c := &headerCheck{rd: rd, hoff: hoff, names: map[string]bool{}}
	for i := range h.Tensors {
		e := &h.Tensors[i]
		if e.Name == "" || c.names[e.Name] {
			return corrupt(hoff, "tensor %d has an empty or repeated name %q", i, e.Name)
		}
		c.names[e.Name] = true
		var err error
		switch e.Kind {
		case KindDense:
			err = c.dense(e)
		case KindTable:
			err = c.table(e)
		case KindAlias:
			err = c.alias(e)
		default:
			err = corrupt(hoff, "tensor %q has unknown kind %q", e.Name, e.Kind)
		}
		if err != nil {
			return err
		}
	}
	if err := c.tiling(); err != nil {
		return err
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

// headerCheck is one header's validation: the blocks seen so far.
type headerCheck struct {
	rd    *Reader
	hoff  int64 // where the header starts: the data area is [Align, hoff)
	all   []*Block
	names map[string]bool
}

// block checks that block b of tensor e holds want bytes inside the data
// area with a checksum for each chunk, and records it.
func (c *headerCheck) block(e *Entry, what string, b *Block, want int64) error {
	hoff := c.hoff
	if b == nil {
		return corrupt(hoff, "tensor %q has no %s block", e.Name, what)
	}
	if b.Len != want {
		return corrupt(b.Off, "tensor %q: %s block of %d bytes, its shape needs %d", e.Name, what, b.Len, want)
	}
	if b.Len < 0 || b.Len > hoff || b.Off < Align || b.Off%Align != 0 || b.Off > hoff || AlignUp(b.Len) > hoff-b.Off {
		return corrupt(b.Off, "tensor %q: %s block [%d, +%d) outside the data area [64, %d)", e.Name, what, b.Off, b.Len, hoff)
	}
	if int64(len(b.CRC)) != b.chunks() {
		return corrupt(hoff, "tensor %q: %s block has %d checksums, needs %d", e.Name, what, len(b.CRC), b.chunks())
	}
	c.all = append(c.all, b)
	c.rd.blocks[b] = &verified{state: make([]atomic.Uint32, b.chunks())}
	return nil
}

func (c *headerCheck) dense(e *Entry) error {
	_, nb, err := formats.ShapeBytes(e.Shape, formats.DType(e.DType))
	if err != nil {
		return corrupt(c.hoff, "tensor %q: %v", e.Name, err)
	}
	if err := c.block(e, "data", e.Data, nb); err != nil {
		return err
	}
	c.rd.dense[e.Name] = e
	return nil
}

func (c *headerCheck) table(e *Entry) error {
	hoff := c.hoff
	if len(e.Shape) != 2 || e.Shape[0] < 0 || e.Shape[0] > MaxRows || e.Shape[1] < 1 || e.Shape[1] > 1<<24 {
		return corrupt(hoff, "table %q: bad shape %v", e.Name, e.Shape)
	}
	rows, dim := e.Shape[0], int(e.Shape[1]) // rows of dim values must fit their blocks, checked below
	nt := len(e.Counts)
	wideOK := c.rd.Header.Major >= Major // version 1 holds narrow tables alone
	if len(e.Rows) != nt || (nt != narrowTiers && (nt != core.NumTiers || !wideOK)) {
		return corrupt(hoff, "table %q: %d tier blocks and %d counts in a version %d file", e.Name, len(e.Rows), nt, c.rd.Header.Major)
	}
	if err := c.block(e, "codes", e.Codes, codesBytes(rows, nt)); err != nil {
		return err
	}
	if err := c.block(e, "dir", e.Dir, dirBytes(rows, nt)); err != nil {
		return err
	}
	var sum int64
	for t := core.Tier(0); int(t) < nt; t++ {
		n := e.Counts[t]
		if n < 0 || n > rows {
			return corrupt(hoff, "table %q: %d rows in %v of %d", e.Name, n, t, rows)
		}
		sum += n
		if err := c.block(e, t.String(), e.Rows[t], n*int64(t.RowBytes(dim))); err != nil {
			return err
		}
	}
	if sum != rows {
		return corrupt(hoff, "table %q: tier counts sum to %d, not %d rows", e.Name, sum, rows)
	}
	return c.params(e)
}

// maxBlock bounds the rows of a block: a block's parameters are read for
// every row of it, so any size up to the rows a table holds would do, but
// one larger than this is no file shark writes.
const maxBlock = 1 << 24

// params checks a table's block parameters: listed for exactly the block
// tiers that have rows, in tier order, in a block of the size they need.
func (c *headerCheck) params(e *Entry) error {
	var want []int
	for t, n := range e.Counts {
		if n > 0 && core.Tier(t).Block() {
			want = append(want, t)
		}
	}
	if !slices.Equal(e.BlockTiers, want) {
		return corrupt(c.hoff, "table %q: block parameters listed for tiers %v, its rows need them for %v", e.Name, e.BlockTiers, want)
	}
	if len(want) == 0 {
		if e.Block != 0 || e.Params != nil {
			return corrupt(c.hoff, "table %q: block parameters without block-tier rows", e.Name)
		}
		return nil
	}
	if e.Block < 1 || e.Block > maxBlock {
		return corrupt(c.hoff, "table %q: blocks of %d rows (want 1 to %d)", e.Name, e.Block, maxBlock)
	}
	return c.block(e, "params", e.Params, paramsLen(e.Shape[0], e.Block, len(want)))
}

// tiling checks that the blocks tile [Align, hoff): every byte before the
// header is then under some checksum, and no two tensors share bytes.
func (c *headerCheck) tiling() error {
	all := c.all
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Off != all[j].Off {
			return all[i].Off < all[j].Off
		}
		return all[i].Len < all[j].Len
	})
	at := int64(Align)
	for _, b := range all {
		if b.Off != at {
			return corrupt(b.Off, "blocks do not tile the data area: expected a block at %d, found one at %d", at, b.Off)
		}
		at += AlignUp(b.Len)
	}
	if at != c.hoff {
		return corrupt(at, "data area ends at %d but the header starts at %d", at, c.hoff)
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

// checkChunk verifies chunk c of block b unless it was checked before. A
// read error is not remembered: it may pass on the next try.
func (rd *Reader) checkChunk(b *Block, v *verified, c int64) error {
	start := c * ChunkSize
	n := min(ChunkSize, b.padded()-start)
	switch v.state[c].Load() {
	case chunkOK:
		return nil
	case chunkBad:
		return checksumError(b, start, n)
	}
	buf := make([]byte, n)
	if _, err := rd.r.ReadAt(buf, b.Off+start); err != nil && err != io.EOF {
		return corrupt(b.Off+start, "reading: %v", err)
	}
	if crc32.Checksum(buf, castagnoli) != b.CRC[c] {
		v.state[c].Store(chunkBad)
		return checksumError(b, start, n)
	}
	v.state[c].Store(chunkOK)
	return nil
}

func checksumError(b *Block, start, n int64) error {
	return formats.Errorf(name, b.Off+start, formats.ErrChecksum, "block at %d, bytes %d..%d", b.Off, start, start+n)
}

// Verify checks the whole file: every checksum, that every block's padding
// is zero, and that every quantized row's scale and bias are finite.
func (rd *Reader) Verify() error {
	for i, p := range rd.parts {
		if err := p.Verify(); err != nil {
			return fmt.Errorf("part %d: %w", i, err)
		}
	}
	if rd.parts != nil {
		return nil
	}
	for i := range rd.Header.Tensors {
		e := &rd.Header.Tensors[i]
		for _, b := range append([]*Block{e.Data, e.Codes, e.Dir, e.Params}, e.Rows...) {
			if b == nil {
				continue
			}
			if err := rd.verifyBlock(b); err != nil {
				return fmt.Errorf("tensor %q: %w", e.Name, err)
			}
		}
		if t, ok := rd.tables[e.Name]; ok {
			if err := t.verifyScales(); err != nil {
				return err
			}
		}
	}
	return nil
}

// verifyBlock checks a block's checksums and its zero padding.
func (rd *Reader) verifyBlock(b *Block) error {
	v := rd.blocks[b]
	for c := range v.state {
		if err := rd.checkChunk(b, v, int64(c)); err != nil {
			return err
		}
	}
	pad := make([]byte, b.padded()-b.Len)
	if _, err := rd.r.ReadAt(pad, b.Off+b.Len); err != nil && err != io.EOF {
		return corrupt(b.Off+b.Len, "reading: %v", err)
	}
	for i, c := range pad {
		if c != 0 {
			return corrupt(b.Off+b.Len+int64(i), "non-zero padding after a block")
		}
	}
	return nil
}

// Dense streams a dense tensor's bytes, checked.
func (rd *Reader) Dense(tname string) (*Entry, io.Reader, error) {
	e, ok := rd.dense[tname]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no dense tensor %q", formats.ErrNotFound, tname)
	}
	return e, &blockReader{rd: rd, b: e.Data}, nil
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
