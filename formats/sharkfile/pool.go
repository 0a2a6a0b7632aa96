package sharkfile

import (
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"unsafe"

	"shark/core"
	"shark/core/kernels"
	"shark/internal/hugemem"
)

// Pooled lookups of rows scattered over a table larger than the cache are
// bound by memory latency: a load that misses every cache takes hundreds of
// nanoseconds (more under virtualization), and a core keeps only a dozen or
// two such misses in flight. So a lookup runs over a whole batch of bags in groups of
// poolGroup rows: a compact loop loads a byte of every cache line of the
// group's rows (touch), so that their misses overlap, and only then are
// the rows, now in the cache, added. A compressed table loads the
// serving-index entries of the next group right before, so that the
// index's misses overlap the rows'.
const poolGroup = 32

// touchSink keeps the touching loads from being optimized away.
var touchSink atomic.Uint32

// touch loads a byte of every 64-byte line of each row and returns their
// xor, to be fed to touchSink. Not inlined: inlined into a lookup loop,
// its running xor was kept on the stack, which chained every load through a
// store.
//
//go:noinline
func touch(rows [][]byte) byte {
	var s byte
	for _, row := range rows {
		for i := 0; i < len(row); i += 64 {
			s ^= row[i]
		}
		if len(row) > 0 {
			s ^= row[len(row)-1]
		}
	}
	return s
}

// checkBags validates a batch of bags for a lookup of dim-wide rows: bag b
// is ids[offsets[b]:offsets[b+1]], its output dst[b*dim:(b+1)*dim]. It
// returns the number of bags.
func checkBags(ids, offsets []int, dim int, dst []float32) (int, error) {
	nb := len(offsets) - 1
	if nb < 0 {
		return 0, nil
	}
	if len(dst) < nb*dim {
		return 0, fmt.Errorf("%w: %d bags of %d need %d outputs, have %d", core.ErrInvalid, nb, dim, nb*dim, len(dst))
	}
	if offsets[0] != 0 || offsets[nb] != len(ids) {
		return 0, fmt.Errorf("%w: bag offsets must run from 0 to len(ids) = %d", core.ErrInvalid, len(ids))
	}
	for b := 0; b < nb; b++ {
		if offsets[b] > offsets[b+1] {
			return 0, fmt.Errorf("%w: bag offsets[%d] = %d > offsets[%d] = %d", core.ErrInvalid, b, offsets[b], b+1, offsets[b+1])
		}
	}
	return nb, nil
}

// meanBags divides each bag's sum by its size (an empty bag stays zero).
func meanBags(offsets []int, dim int, dst []float32) {
	for b := 0; b+1 < len(offsets); b++ {
		if k := offsets[b+1] - offsets[b]; k > 0 {
			inv := 1 / float32(k)
			for i := range dst[b*dim : (b+1)*dim] {
				dst[b*dim+i] *= inv
			}
		}
	}
}

// PoolBagsF32 sets dst[b*dim:(b+1)*dim] to the sum of the rows
// ids[offsets[b]:offsets[b+1]] of a row-major float32 table (their mean if
// mean is set), for every bag b:
//
//	for _, id := range bag { for i := range out { out[i] += table[id*dim+i] } }
//
// It is the fp32 lookup that lookups from a compressed table are measured
// against, built the same way (touch a group, then add it) so that their
// ratio measures the bytes moved, not a difference in the loop.
func PoolBagsF32(table []float32, dim int, ids, offsets []int, mean bool, dst []float32) error {
	return poolF32(table, dim, ids, offsets, mean, dst, false)
}

// PoolBagsF32Prefetch is PoolBagsF32 (the same sums, in the same order)
// with another loop: while a group's rows are added, the next group's are
// asked for with a software prefetch (kernels.Prefetch; a plain loop where
// the build has none). Wide rows of fp32 gain more from it than from
// grouped touches, so `shark bench lookup` measures the compressed lookups
// against this loop too.
func PoolBagsF32Prefetch(table []float32, dim int, ids, offsets []int, mean bool, dst []float32) error {
	return poolF32(table, dim, ids, offsets, mean, dst, true)
}

func poolF32(table []float32, dim int, ids, offsets []int, mean bool, dst []float32, prefetch bool) error {
	nb, err := checkBags(ids, offsets, dim, dst)
	if err != nil || nb == 0 {
		return err
	}
	rows := 0
	if dim > 0 {
		rows = len(table) / dim
	}
	for _, id := range ids {
		if id < 0 || id >= rows {
			return fmt.Errorf("%w: row %d out of range [0, %d)", core.ErrInvalid, id, rows)
		}
	}
	clear(dst[:nb*dim])
	rowBytes := func(id int) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(&table[id*dim])), 4*dim) }
	var group [poolGroup][]byte
	var sink byte
	if prefetch { // ids are in range, so a row has dim > 0 values
		for _, id := range ids[:min(poolGroup, len(ids))] {
			kernels.Prefetch(rowBytes(id))
		}
	}
	bag := 0
	for g := 0; g < len(ids); g += poolGroup {
		k := min(poolGroup, len(ids)-g)
		if prefetch {
			for _, id := range ids[g+k : min(g+k+poolGroup, len(ids))] {
				kernels.Prefetch(rowBytes(id))
			}
		} else {
			for j, id := range ids[g : g+k] {
				group[j] = rowBytes(id)
			}
			sink ^= touch(group[:k])
		}
		for j, id := range ids[g : g+k] {
			for g+j >= offsets[bag+1] {
				bag++
			}
			kernels.Axpy(1, table[id*dim:(id+1)*dim], dst[bag*dim:(bag+1)*dim])
		}
	}
	touchSink.Store(uint32(sink))
	if mean {
		meanBags(offsets, dim, dst)
	}
	return nil
}

// rowBytes locates row r through the file's index and returns its encoded
// bytes: from memory once LoadRows has read them, in place if the file is
// mapped, read and checked otherwise.
func (t *Table) rowBytes(r int) (core.Tier, []byte, error) {
	if t.rd.data == nil && t.mem[0] == nil {
		return t.RawRow(r, nil)
	}
	tier, rank := t.locate(r)
	if t.mem[tier] != nil { // loaded: a block tier's rows made rowwise
		rt := tier.Rowwise()
		rb := int64(rt.RowBytes(t.dim))
		return rt, t.mem[tier][rank*rb : rank*rb+rb], nil
	}
	rb := int64(tier.RowBytes(t.dim))
	off := t.blocks[tier].Off + rank*rb
	return tier, t.rd.data[off : off+rb], nil
}

// addRow adds row r, encoded in raw in the given tier, to dst; scratch
// holds a block-tier row made rowwise (its capacity reused).
func (t *Table) addRow(tier core.Tier, r int, dst []float32, raw []byte, scratch *[]byte) {
	switch tier {
	case core.FP32:
		kernels.AddRowF32(dst, raw)
	case core.FP16:
		kernels.AddRowF16(dst, raw)
	case core.INT8:
		kernels.AddRowNBit(8, dst, raw)
	case core.INT4:
		kernels.AddRowNBit(4, dst, raw)
	case core.INT2:
		kernels.AddRowNBit(2, dst, raw)
	default:
		t.addBlockRow(tier, r, dst, raw, scratch)
	}
}

// addBlockRow adds a block-tier row: its codes and its block's scale and
// bias, made one rowwise row in scratch, so that it adds exactly as Row
// decodes it.
func (t *Table) addBlockRow(tier core.Tier, r int, dst []float32, raw []byte, scratch *[]byte) {
	*scratch = append(append((*scratch)[:0], raw...), t.blockParams(tier, r)...)
	kernels.AddRowNBit(tier.Bits(), dst, *scratch)
}

// slotShift places a row's tier above its rank in a serving-index slot:
// three bits of tier, ranks below 1<<29.
const slotShift = 29

// poolLoaded is PoolBags over rows that LoadRows has read, found through
// its serving index, in the groups of poolGroup: while a group's rows
// are touched, so are the index entries of the next group. The ids are in
// range and dst is cleared.
func (t *Table) poolLoaded(ids, offsets []int, dst []float32) {
	if loadedPrefetch() {
		t.poolAhead(ids, offsets, dst, aheadRows)
		return
	}
	const group = poolGroup
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
		rb[tier] = core.Tier(tier).Rowwise().RowBytes(t.dim) // loaded block rows are rowwise
	}
	dim := t.dim
	bag := 0
	for g := 0; g < len(ids); g += group {
		k := min(group, len(ids)-g)
		for j, s := range slots[:k] {
			tier, rank := s>>slotShift, int(s&(1<<slotShift-1))
			n := rb[tier]
			raws[j] = t.mem[tier][rank*n : rank*n+n]
		}
		for j, id := range ids[g+k : min(g+k+group, len(ids))] {
			next[j] = t.slots[id]
		}
		sink ^= touch(raws[:k])
		for j, raw := range raws[:k] {
			for g+j >= offsets[bag+1] {
				bag++
			}
			out := dst[bag*dim : (bag+1)*dim]
			// addRow written out: it is too large to inline, and this is
			// the loop every lookup runs.
			switch tier := core.Tier(slots[j] >> slotShift); tier {
			case core.FP32:
				kernels.AddRowF32(out, raw)
			case core.FP16:
				kernels.AddRowF16(out, raw)
			case core.INT8:
				kernels.AddRowNBit(8, out, raw)
			case core.INT4, core.INT4B:
				kernels.AddRowNBit(4, out, raw)
			case core.INT2, core.INT2B:
				kernels.AddRowNBit(2, out, raw)
			case core.INT8B:
				kernels.AddRowNBit(8, out, raw)
			}
		}
		slots = next
	}
	touchSink.Store(uint32(sink))
}

// loadedPrefetch chooses poolAhead for loaded tables: where Prefetch is an
// instruction, asking for rows ahead keeps more misses in flight than
// touching a group and waiting for it. Tests set it to run both loops.
var loadedPrefetch = kernels.Prefetches

// aheadRows is how many rows ahead of the one it adds poolLoaded's
// prefetching loop asks for a row (and twice that for its serving-index
// entry): 8 to 16 were best, 4 and 32 slower, in bags of 32 Zipf(1.05)
// ids over an 8,000,000 x 64 int8 table with AVX2 (BENCHMARKS.md).
var aheadRows = 12

// aheadRing holds the rows asked for and not yet added; a power of two
// above any lookahead.
const aheadRing = 64

// poolAhead is poolLoaded by software prefetch: row i+ahead is located
// (its serving-index entry was asked for ahead rows before) and asked for
// while row i is added, in the same order as poolLoaded's groups, so the
// sums are the same bits.
func (t *Table) poolAhead(ids, offsets []int, dst []float32, ahead int) {
	ahead = min(max(ahead, 1), aheadRing/2)
	var rb [core.NumTiers]int
	for tier := range rb {
		rb[tier] = core.Tier(tier).Rowwise().RowBytes(t.dim) // loaded block rows are rowwise
	}
	var raws [aheadRing][]byte
	var tiers [aheadRing]core.Tier
	locate := func(i int) {
		s := t.slots[ids[i]]
		tier, rank := s>>slotShift, int(s&(1<<slotShift-1))
		n := rb[tier]
		raw := t.mem[tier][rank*n : rank*n+n]
		kernels.Prefetch(raw)
		raws[i%aheadRing], tiers[i%aheadRing] = raw, core.Tier(tier)
	}
	for i := range min(2*ahead, len(ids)) {
		kernels.Prefetch(t.slotBytes(ids[i]))
	}
	for i := range min(ahead, len(ids)) {
		locate(i)
	}
	dim, bag := t.dim, 0
	for i := range ids {
		if j := i + 2*ahead; j < len(ids) {
			kernels.Prefetch(t.slotBytes(ids[j]))
		}
		if j := i + ahead; j < len(ids) {
			locate(j)
		}
		for i >= offsets[bag+1] {
			bag++
		}
		addLoaded(tiers[i%aheadRing], dst[bag*dim:(bag+1)*dim], raws[i%aheadRing])
	}
}

// slotBytes is row id's serving-index entry as bytes, to prefetch.
func (t *Table) slotBytes(id int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&t.slots[id])), 4)
}

// addLoaded adds a loaded row, raw, of the given tier to out (a block
// tier's row is held rowwise).
func addLoaded(tier core.Tier, out []float32, raw []byte) {
	switch tier {
	case core.FP32:
		kernels.AddRowF32(out, raw)
	case core.FP16:
		kernels.AddRowF16(out, raw)
	case core.INT8, core.INT8B:
		kernels.AddRowNBit(8, out, raw)
	case core.INT4, core.INT4B:
		kernels.AddRowNBit(4, out, raw)
	case core.INT2, core.INT2B:
		kernels.AddRowNBit(2, out, raw)
	}
}

// VerifyRows checks every checksum of the table's row blocks once, after
// which Pool reads rows of a memory-mapped file in place, without a copy.
func (t *Table) VerifyRows() error {
	if t.parts != nil {
		return t.eachPart((*Table).VerifyRows)
	}
	t.verifyOnce.Do(func() {
		for _, b := range t.blocks[:t.nt] {
			v := t.rd.blocks[b]
			for c := range v.state {
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
// system offers them (internal/hugemem; outside the Go heap, freed by the
// file's Close or when the table is garbage) rather than through the file
// or its mapping. It also builds a serving index of 4 bytes a row (tier and
// rank), so that a lookup costs one load instead of the file index's
// popcounts: memory traded for lookups per second. The file's own index
// stays under a byte a row. A block tier's rows are held as rowwise rows
// (their block's scale and bias beside each row's codes, 4 bytes a row
// more), so that they add as fast as rowwise rows. Calls after the first
// return its result.
func (t *Table) LoadRows() error {
	if t.parts != nil {
		return t.eachPart((*Table).LoadRows)
	}
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
	for tier, b := range t.blocks[:t.nt] {
		tr := core.Tier(tier)
		n := b.Len
		if tr.Block() {
			// Held rowwise, each row's codes with its block's scale and
			// bias: 4 bytes a row of memory for lookups that cost what a
			// rowwise row's do.
			n = t.counts[tier] * int64(tr.Rowwise().RowBytes(t.dim))
		}
		hb := hugemem.Alloc(int(n))
		bufs = append(bufs, hb)
		buf := hb.Bytes
		if err := t.readTier(tr, b, buf[:n]); err != nil {
			free()
			return fmt.Errorf("table %q: %w", t.e.Name, err)
		}
		mem[tier] = buf
	}
	fits := true // ranks must fit 30 bits; otherwise lookups keep locating
	for _, c := range t.counts {
		fits = fits && c < 1<<slotShift
	}
	var slots []uint32
	if fits {
		hb := hugemem.Alloc(4 * t.rows)
		bufs = append(bufs, hb)
		slots = hb.Uint32s()
		var next [core.NumTiers]uint32
		for r := range slots {
			tier := t.Tier(r)
			slots[r] = uint32(tier)<<slotShift | next[tier]
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

// readTier reads the rows of tier tr, stored in block b, into buf: a
// block tier's made rowwise (RowwiseTierReader).
func (t *Table) readTier(tr core.Tier, b *Block, buf []byte) error {
	if tr.Block() {
		_, err := io.ReadFull(t.RowwiseTierReader(tr), buf)
		return err
	}
	for off := int64(0); off < b.Len; off += ChunkSize {
		end := min(off+ChunkSize, b.Len)
		if err := t.rd.readChecked(b, buf[off:end], off); err != nil {
			return err
		}
	}
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
// poolGroup). Safe for concurrent use.
func (t *Table) PoolBags(ids, offsets []int, mean bool, dst []float32) (err error) {
	if t.parts != nil {
		return t.poolParts(ids, offsets, mean, dst)
	}
	if t.rd.data != nil && t.slots == nil {
		defer guardFault(&err)() // rows read in place from the mapped file
	}
	if err := t.VerifyRows(); err != nil {
		return err
	}
	nb, err := checkBags(ids, offsets, t.dim, dst)
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
		var scratch []byte
		for i, id := range ids {
			for i >= offsets[bag+1] {
				bag++
			}
			tier, raw, err := t.rowBytes(id)
			if err != nil {
				return err
			}
			t.addRow(tier, id, dst[bag*t.dim:(bag+1)*t.dim], raw, &scratch)
		}
	}
	if mean {
		meanBags(offsets, t.dim, dst)
	}
	return nil
}
