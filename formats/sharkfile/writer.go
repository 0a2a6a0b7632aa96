package sharkfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"

	"github.com/vmihailenco/msgpack/v5"

	"shark/core"
	"shark/core/par"
	"shark/formats"
)

// Writer writes a .shark file in one streaming pass.
type Writer struct {
	w     io.Writer
	off   int64
	h     Header
	names map[string]bool
	err   error
	// pre is the container version the preamble was written with; h.Major
	// becomes Major when a wide table is written.
	pre int
	// allWide stores every table in the wide layout, whatever its tiers
	// (tests of that layout with the first four tiers).
	allWide bool
}

// ErrVersion: a table needs container version 2, and the writer, started
// as version 1 on a stream it cannot go back in, cannot mark the file so.
var ErrVersion = errors.New("sharkfile: a table using a tier after int4 needs container version 2")

// NewWriter writes the preamble to w, as container version 1: a file whose
// tables use only fp32, fp16, int8 and int4 is version 1 byte for byte. A
// table using a later tier makes it version 2, whose preamble Close writes
// over the first when w is an io.WriterAt (a file); to a stream, such a
// table is refused (ErrVersion) unless the writer was made by
// NewWriterVersion(w, Major).
func NewWriter(w io.Writer) (*Writer, error) { return NewWriterVersion(w, MajorNarrow) }

// NewWriterVersion is NewWriter for a file declared version major (1 or
// 2) from its start, as a stream that will hold a wide table needs.
func NewWriterVersion(w io.Writer, major int) (*Writer, error) {
	if major != MajorNarrow && major != Major {
		return nil, fmt.Errorf("sharkfile: container version %d (versions %d and %d are written)", major, MajorNarrow, Major)
	}
	pre := make([]byte, Align)
	copy(pre, Magic)
	binary.LittleEndian.PutUint16(pre[8:], uint16(major))
	binary.LittleEndian.PutUint16(pre[10:], Minor)
	if _, err := w.Write(pre); err != nil {
		return nil, err
	}
	return &Writer{w: w, off: Align, names: map[string]bool{}, pre: major,
		h: Header{Major: major, Minor: Minor, Chunk: ChunkSize, Codec: Codec}}, nil
}

// MajorFor is the container version that holds tables of these tiers.
func MajorFor(tiersUsed ...core.Tier) int {
	for _, t := range tiersUsed {
		if t >= narrowTiers {
			return Major
		}
	}
	return MajorNarrow
}

// goWide makes the file version 2 for a wide table, if it can be.
func (w *Writer) goWide(name string) error {
	if w.h.Major == Major {
		return nil
	}
	if _, ok := w.w.(io.WriterAt); !ok {
		return fmt.Errorf("%w: table %q, to a stream begun as version %d (NewWriterVersion)", ErrVersion, name, w.pre)
	}
	w.h.Major = Major
	return nil
}

// SetMethod records the compression parameters.
func (w *Writer) SetMethod(m Method) { w.h.Method = &m }

// SetProvenance records free-form provenance (tool version, input, time).
func (w *Writer) SetProvenance(p map[string]string) { w.h.Provenance = p }

// blockWriter checksums a block chunk by chunk as it streams.
type blockWriter struct {
	w     *Writer
	b     *Block
	crc   uint32
	inCnk int64
}

func (bw *blockWriter) Write(p []byte) (int, error) {
	if bw.w.err != nil {
		return 0, bw.w.err
	}
	n, err := bw.w.w.Write(p)
	bw.sum(p[:n])
	bw.b.Len += int64(n)
	bw.w.off += int64(n)
	if err != nil {
		bw.w.err = err
	}
	return n, err
}

func (bw *blockWriter) sum(p []byte) {
	for len(p) > 0 {
		k := min(int64(len(p)), ChunkSize-bw.inCnk)
		bw.crc = crc32.Update(bw.crc, castagnoli, p[:k])
		bw.inCnk += k
		p = p[k:]
		if bw.inCnk == ChunkSize {
			bw.b.CRC = append(bw.b.CRC, bw.crc)
			bw.crc, bw.inCnk = 0, 0
		}
	}
}

// finish pads the block to the alignment; the padding is checksummed too.
func (bw *blockWriter) finish() error {
	pad := make([]byte, AlignUp(bw.b.Len)-bw.b.Len)
	if len(pad) > 0 {
		if _, err := bw.w.w.Write(pad); err != nil {
			bw.w.err = err
			return err
		}
		bw.w.off += int64(len(pad))
		bw.sum(pad)
	}
	if bw.inCnk > 0 {
		bw.b.CRC = append(bw.b.CRC, bw.crc)
	}
	return bw.w.err
}

func (w *Writer) block(fill func(io.Writer) error) (*Block, error) {
	if w.err != nil {
		return nil, w.err
	}
	bw := &blockWriter{w: w, b: &Block{Off: w.off, CRC: []uint32{}}}
	if err := fill(bw); err != nil {
		if w.err == nil {
			w.err = err
		}
		return nil, err
	}
	return bw.b, bw.finish()
}

func (w *Writer) claim(name string) error {
	if w.err != nil {
		return w.err
	}
	if name == "" {
		return fmt.Errorf("sharkfile: empty tensor name")
	}
	if w.names[name] {
		return fmt.Errorf("sharkfile: tensor %q written twice", name)
	}
	w.names[name] = true
	return nil
}

// WriteDense stores a tensor as it is: exactly the shape's bytes of
// little-endian data are copied from data.
func (w *Writer) WriteDense(name string, d formats.DType, shape []int64, data io.Reader) error {
	if err := w.claim(name); err != nil {
		return err
	}
	_, nb, err := formats.ShapeBytes(shape, d)
	if err != nil {
		return fmt.Errorf("sharkfile: tensor %q: %w", name, err)
	}
	b, err := w.block(func(bw io.Writer) error {
		n, err := io.CopyN(bw, data, nb)
		if err != nil {
			return fmt.Errorf("sharkfile: tensor %q: copied %d of %d bytes: %w", name, n, nb, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.h.Tensors = append(w.h.Tensors, Entry{Name: name, Kind: KindDense, DType: string(d), Shape: shape, Data: b})
	return nil
}

// SetExtra records key = value in the header entry of tensor name, written
// before.
func (w *Writer) SetExtra(name, key, value string) error {
	for i := range w.h.Tensors {
		if e := &w.h.Tensors[i]; e.Name == name {
			if e.Extra == nil {
				e.Extra = map[string]string{}
			}
			e.Extra[key] = value
			return nil
		}
	}
	return fmt.Errorf("sharkfile: no tensor %q written to mark", name)
}

// TableInfo is what a compressed table records beside its rows.
type TableInfo struct {
	SourceDType formats.DType
	Stats       *Stats
	Scores      map[string]float64
	// Block is the rows per block of the block tiers (0: core.DefaultBlock).
	Block int
	// Params are the table's block parameters (core.ComputeBlockParams of
	// its source, in blocks of Block rows, for the block tiers its rows
	// take), when the caller has them already; if nil, WriteTable computes
	// them, a pass over the source, when a row takes a block tier.
	// WriteEncodedTable needs them for a table with block-tier rows.
	Params *core.BlockParams
}

// TierSource gives every row's tier, in row order, as often as asked.
type TierSource interface {
	Scan(fn func(r int, t core.Tier) error) error
}

// TierSlice is a TierSource held in memory.
type TierSlice []core.Tier

func (ts TierSlice) Scan(fn func(r int, t core.Tier) error) error {
	for r, t := range ts {
		if err := fn(r, t); err != nil {
			return err
		}
	}
	return nil
}

// window is the number of rows read at once while writing a tier's block
// in passes per tier.
const window = 4096

// windowOf is the number of rows the one-pass writer reads and encodes at
// once: about 4 MiB of float32, so that the goroutines that encode a window
// are started (and the tier parts written) once per 4 MiB; on a virtual
// machine each wake-up and system call is dear.
func windowOf(dim int) int { return max(1, min(1<<16, (4<<20)/(4*max(dim, 1)))) }

// WriteTable stores src with row r in tier tiers[r]. The tiers are scanned
// once for the index; then the source is read in windows of rows, each
// encoded on every core. To a file (an io.WriterAt that seeks) that takes
// one pass, each window's tier parts written at their offsets while the
// next window is encoded; to a stream, a pass per tier. progress (if not
// nil) is told the rows encoded, from the calling goroutine.
func (w *Writer) WriteTable(name string, src core.RowSource, tiers []core.Tier, info TableInfo, progress func(rows int)) error {
	if len(tiers) != src.Rows() {
		return fmt.Errorf("sharkfile: table %q: %d tiers for %d rows", name, len(tiers), src.Rows())
	}
	return w.WriteTableFrom(name, src, TierSlice(tiers), info, progress)
}

// WriteTableFrom is WriteTable with the tiers from a TierSource, for tables
// whose per-row state is not held in memory.
func (w *Writer) WriteTableFrom(name string, src core.RowSource, tiers TierSource, info TableInfo, progress func(rows int)) error {
	e, used, err := w.beginTable(name, src.Rows(), src.Dim(), tiers, info)
	if err != nil {
		return err
	}
	var bp *core.BlockParams
	if len(used) > 0 {
		if bp = info.Params; bp == nil {
			if bp, err = core.ComputeBlockParams(src, blockOf(info), used); err != nil {
				err = fmt.Errorf("sharkfile: table %q: %w", name, err)
			}
		}
	}
	if err == nil {
		err = w.setParams(e, used, bp)
	}
	if err == nil {
		if ws, ok := w.w.(writeSeeker); ok {
			err = w.tiersOnePass(e, ws, src, tiers, bp, progress)
		} else {
			err = w.tiersPerPass(e, src, tiers, bp, progress)
		}
	}
	if err == nil {
		err = w.writeParams(e, bp)
	}
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return err
	}
	w.h.Tensors = append(w.h.Tensors, *e)
	return nil
}

// WriteEncodedTable stores a table whose rows are encoded already: rows[t]
// holds the rows of tier t in row order (core.Mixed's TierRows), written as
// they are, so that what was evaluated in memory is what the file holds.
func (w *Writer) WriteEncodedTable(name string, dim int, tiers []core.Tier, rows [core.NumTiers][]byte, info TableInfo) error {
	e, used, err := w.beginTable(name, len(tiers), dim, TierSlice(tiers), info)
	if err != nil {
		return err
	}
	if len(used) > 0 && info.Params == nil {
		w.err = fmt.Errorf("%w: table %q: rows of %v encoded without their block parameters", core.ErrInvalid, name, used)
		return w.err
	}
	if err := w.setParams(e, used, info.Params); err != nil {
		w.err = err // the table's index is written: the file cannot go on
		return err
	}
	for t := range rows {
		if want := countOf(e, t) * int64(core.Tier(t).RowBytes(dim)); int64(len(rows[t])) != want {
			return fmt.Errorf("sharkfile: table %q: %d bytes of %v rows, its tiers need %d", name, len(rows[t]), core.Tier(t), want)
		}
	}
	for t := range rows[:len(e.Counts)] {
		b, err := w.block(func(bw io.Writer) error { _, err := bw.Write(rows[t]); return err })
		if err != nil {
			return err
		}
		e.Rows = append(e.Rows, b)
	}
	if err := w.writeParams(e, info.Params); err != nil {
		return err
	}
	w.h.Tensors = append(w.h.Tensors, *e)
	return nil
}

// blockOf is the rows per block info asks for.
func blockOf(info TableInfo) int {
	if info.Block > 0 {
		return info.Block
	}
	return core.DefaultBlock
}

// setParams records in e the block parameters of the block tiers used,
// which must be those bp holds, for e's rows.
func (w *Writer) setParams(e *Entry, used []core.Tier, bp *core.BlockParams) error {
	if len(used) == 0 {
		return nil
	}
	want := core.Blocks(e.Shape[0], bp.Block) * 2 * int64(len(used))
	if !slices.Equal(bp.Tiers, used) || bp.Block < 1 || bp.Block > maxBlock || int64(len(bp.Params)) != want {
		return fmt.Errorf("%w: table %q: block parameters for %v in blocks of %d (%d values), its rows take %v", core.ErrInvalid, e.Name, bp.Tiers, bp.Block, len(bp.Params), used)
	}
	e.Block = int64(bp.Block)
	for _, t := range used {
		e.BlockTiers = append(e.BlockTiers, int(t))
	}
	return nil
}

// writeParams writes the params block of a table with block-tier rows.
func (w *Writer) writeParams(e *Entry, bp *core.BlockParams) error {
	if len(e.BlockTiers) == 0 {
		return nil
	}
	b, err := w.block(func(bw io.Writer) error { _, err := bw.Write(bp.Bytes()); return err })
	e.Params = b
	return err
}

// countOf is e's count of rows of tier t (0 past its layout's tiers).
func countOf(e *Entry, t int) int64 {
	if t < len(e.Counts) {
		return e.Counts[t]
	}
	return 0
}

// beginTable claims the name and writes a table's index: the tier codes,
// streamed as the tiers are scanned, and the rank directory.
func (w *Writer) beginTable(name string, rows, dim int, tiers TierSource, info TableInfo) (*Entry, []core.Tier, error) {
	if err := w.claim(name); err != nil {
		return nil, nil, err
	}
	if rows > MaxRows || dim < 1 {
		return nil, nil, fmt.Errorf("sharkfile: table %q: %d x %d is outside 1..%d rows and dim >= 1", name, rows, dim, MaxRows)
	}
	nt, used, err := w.layoutOf(name, tiers)
	if err != nil {
		return nil, nil, err
	}
	e := &Entry{Name: name, Kind: KindTable, DType: string(info.SourceDType), Shape: []int64{int64(rows), int64(dim)},
		Counts: make([]int64, nt), Stats: info.Stats, Scores: info.Scores}
	var dir []byte // the directory is small; the codes stream out as scanned
	e.Codes, err = w.block(func(bw io.Writer) error {
		dir, err = writeCodes(bw, e, tiers)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if e.Dir, err = w.block(func(bw io.Writer) error { _, err := bw.Write(dir); return err }); err != nil {
		return nil, nil, err
	}
	return e, used, nil
}

// layoutOf is the number of tiers of the layout a table of rows rows of
// these tiers is stored in (narrowTiers unless it uses a later tier),
// found by a scan of the tiers; a wide table makes the file version 2.
//
// It also returns the block tiers that rows take, in tier order.
func (w *Writer) layoutOf(name string, tiers TierSource) (int, []core.Tier, error) {
	var seen [core.NumTiers]bool
	err := tiers.Scan(func(r int, t core.Tier) error {
		if t < core.NumTiers {
			seen[t] = true
		}
		return nil // writeCodes refuses a tier past the last
	})
	if err != nil {
		return 0, nil, err
	}
	var used []core.Tier
	wide := w.allWide
	for t := core.Tier(narrowTiers); t < core.NumTiers; t++ {
		wide = wide || seen[t]
		if seen[t] && t.Block() {
			used = append(used, t)
		}
	}
	if !wide {
		return narrowTiers, nil, nil
	}
	return core.NumTiers, used, w.goWide(name)
}

// writeCodes writes every row's tier code to bw (2 bits in a narrow table,
// 4 in a wide one: len(e.Counts) tiers), counting the rows of each tier
// into e.Counts, and returns the rank directory.
func writeCodes(bw io.Writer, e *Entry, tiers TierSource) ([]byte, error) {
	rows := int(e.Shape[0])
	nt := len(e.Counts)
	bits := codeBits(nt)
	per := 8 / bits
	var cnt [core.NumTiers]uint32
	var dir []byte
	buf := make([]byte, 0, 1<<16)
	var cur byte
	seen := 0
	err := tiers.Scan(func(r int, t core.Tier) error {
		if int(t) >= nt || r != seen {
			return fmt.Errorf("sharkfile: table %q: row %d has tier %d (or rows out of order)", e.Name, r, t)
		}
		seen++
		if r%DirEvery == 0 && r > 0 {
			for _, c := range cnt[:nt] {
				dir = binary.LittleEndian.AppendUint32(dir, c)
			}
		}
		cur |= byte(t) << (bits * (r % per))
		if r%per == per-1 {
			buf = append(buf, cur)
			cur = 0
			if len(buf) == cap(buf) {
				if _, err := bw.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		cnt[t]++
		e.Counts[t]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen != rows {
		return nil, fmt.Errorf("sharkfile: table %q: %d tiers for %d rows", e.Name, seen, rows)
	}
	if rows%per != 0 {
		buf = append(buf, cur)
	}
	_, err = bw.Write(buf)
	return dir, err
}

// tiersPerPass writes the four tier blocks to a stream, a pass over the
// source per tier, each window's rows of the tier encoded on every core.
func (w *Writer) tiersPerPass(e *Entry, src core.RowSource, tiers TierSource, bp *core.BlockParams, progress func(rows int)) error {
	rows, dim := src.Rows(), src.Dim()
	done := 0
	rowsBuf := make([]float32, window*dim)
	for t := core.Tier(0); int(t) < len(e.Counts); t++ {
		rb := t.RowBytes(dim)
		b, err := w.block(func(bw io.Writer) error {
			if e.Counts[t] == 0 {
				return nil
			}
			var ids []int
			out := make([]byte, 0, window*rb)
			lo := 0
			flush := func(hi int) error {
				if len(ids) == 0 {
					return nil
				}
				win := rowsBuf[:(hi-lo)*dim]
				if ss, ok := src.(core.SliceSource); ok {
					win = ss.RowSlice(lo, hi) // in memory: no copy
				} else if err := core.ReadRows(src, lo, hi, win); err != nil {
					return fmt.Errorf("sharkfile: table %q: reading rows %d..%d: %w", e.Name, lo, hi, err)
				}
				out = out[:len(ids)*rb]
				const part = 256
				par.For((len(ids)+part-1)/part, 0, func(k int) {
					a, b := k*part, min(len(ids), (k+1)*part)
					if !t.Block() {
						core.EncodeRows(t, out[a*rb:b*rb], win, dim, ids[a:b])
						return
					}
					for i, r := range ids[a:b] {
						s, bias := bp.Of(t, lo+r)
						core.EncodeBlockRow(t, out[(a+i)*rb:(a+i+1)*rb], win[r*dim:(r+1)*dim], s, bias)
					}
				})
				if _, err := bw.Write(out); err != nil {
					return err
				}
				done += len(ids)
				if progress != nil {
					progress(done)
				}
				ids = ids[:0]
				return nil
			}
			err := tiers.Scan(func(r int, rt core.Tier) error {
				if r-lo == window {
					if err := flush(r); err != nil {
						return err
					}
					lo = r
				}
				if rt == t {
					ids = append(ids, r-lo) // within the window
				}
				return nil
			})
			if err != nil {
				return err
			}
			return flush(rows)
		})
		if err != nil {
			return err
		}
		e.Rows = append(e.Rows, b)
	}
	return nil
}

// parts holds a window's rows of each tier, encoded.
type parts = [core.NumTiers][]byte

// windowParts keeps the one-pass writer's window buffers from one table to
// the next: fresh buffers cost page faults, which on a virtual machine are
// dear.
var windowParts = sync.Pool{New: func() any { return new(parts) }}

// writeSeeker is an output that can be written at any offset (a file).
type writeSeeker interface {
	io.WriterAt
	io.Seeker
}

// tiersOnePass writes the four tier blocks in one pass over the source: the
// blocks' offsets follow from the tier counts, so each window of rows is
// encoded once and each tier's part is written at its place, every block
// still growing in order (its checksums are computed as it grows). The
// source is read once instead of once per tier.
func (w *Writer) tiersOnePass(e *Entry, out writeSeeker, src core.RowSource, tiers TierSource, bp *core.BlockParams, progress func(int)) error {
	op := newOnePass(w, e, out, src)
	op.params = bp
	if sink, ok := src.(core.ErrorSink); ok { // every row encoded once, in order: its error told as it is
		op.sink = sink
		sink.ReportErrors()
	}
	op.start()
	lo := 0
	win := make([]core.Tier, 0, op.window)
	flush := func() error {
		if len(win) == 0 {
			return nil
		}
		if err := op.encode(lo, win); err != nil {
			return err
		}
		lo, win = lo+len(win), win[:0]
		if progress != nil {
			progress(lo)
		}
		return nil
	}
	err := tiers.Scan(func(r int, t core.Tier) error {
		win = append(win, t)
		if len(win) == op.window {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if werr := op.stop(); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	if lo != src.Rows() {
		return fmt.Errorf("sharkfile: table %q: %d tiers for %d rows", e.Name, lo, src.Rows())
	}
	return op.finish()
}

// onePass is one table's one-pass write: windows of rows are encoded into
// one of two sets of tier buffers while a goroutine writes and checksums
// the other set at each tier's place in the file.
type onePass struct {
	w      *Writer
	e      *Entry
	out    writeSeeker
	src    core.RowSource
	dim    int
	window int
	rb     [core.NumTiers]int
	bws    [core.NumTiers]*blockWriter
	end    int64 // where the table's blocks end
	enc    *core.TierEncoder
	params *core.BlockParams // of the block-tier rows, if any
	rows   []float32         // a window of rows of a source not in memory
	sink   core.ErrorSink    // told each window's errors, if the source is one
	errs   []core.EncodedError
	free   chan *parts
	jobs   chan *parts
	werr   chan error
}

func newOnePass(w *Writer, e *Entry, out writeSeeker, src core.RowSource) *onePass {
	dim := src.Dim()
	op := &onePass{w: w, e: e, out: out, src: src, dim: dim, window: windowOf(dim), enc: core.NewTierEncoder(dim),
		free: make(chan *parts, 2), jobs: make(chan *parts), werr: make(chan error, 1)}
	off := w.off
	for t := range op.bws {
		op.rb[t] = core.Tier(t).RowBytes(dim)
		op.bws[t] = &blockWriter{w: w, b: &Block{Off: off, Len: 0, CRC: []uint32{}}}
		off += AlignUp(countOf(e, t) * int64(op.rb[t]))
	}
	op.end = off
	if _, inMemory := src.(core.SliceSource); !inMemory {
		op.rows = make([]float32, op.window*dim)
	}
	return op
}

// start takes two sets of buffers and starts the writing goroutine.
func (op *onePass) start() {
	for range 2 {
		op.free <- windowParts.Get().(*parts)
	}
	go func() {
		var err error
		for ps := range op.jobs {
			for t, buf := range ps {
				if err != nil || len(buf) == 0 {
					continue
				}
				bw := op.bws[t]
				if _, err = op.out.WriteAt(buf, bw.b.Off+bw.b.Len); err == nil {
					bw.sum(buf)
					bw.b.Len += int64(len(buf))
				}
			}
			op.free <- ps
		}
		op.werr <- err
	}()
}

// encode encodes the window of rows from lo, of the given tiers, and
// hands its parts to the writing goroutine.
func (op *onePass) encode(lo int, win []core.Tier) error {
	hi := lo + len(win)
	var rows []float32
	if ss, ok := op.src.(core.SliceSource); ok {
		rows = ss.RowSlice(lo, hi)
	} else {
		rows = op.rows[:(hi-lo)*op.dim]
		if err := core.ReadRows(op.src, lo, hi, rows); err != nil {
			return fmt.Errorf("sharkfile: table %q: reading rows %d..%d: %w", op.e.Name, lo, hi, err)
		}
	}
	outs := <-op.free
	n := core.Counts(win)
	for t := range outs {
		if cap(outs[t]) < n[t]*op.rb[t] {
			// Room for the most rows of the tier a window can hold, so
			// that it is made once: pages past the part in use are not
			// touched, and not resident.
			outs[t] = make([]byte, 0, int(min(int64(op.window), countOf(op.e, t)))*op.rb[t])
		}
		outs[t] = outs[t][:n[t]*op.rb[t]]
	}
	if op.sink == nil {
		op.enc.EncodeAt(outs, rows, win, lo, op.params)
		op.jobs <- outs
		return nil
	}
	if cap(op.errs) < len(win) {
		op.errs = make([]core.EncodedError, op.window)
	}
	op.enc.EncodeErrorsAt(outs, rows, win, lo, op.params, op.errs[:len(win)])
	op.jobs <- outs
	return op.sink.EncodedErrors(lo, win, op.errs[:len(win)])
}

// stop waits for the writing goroutine and returns the buffers.
func (op *onePass) stop() error {
	close(op.jobs)
	err := <-op.werr
	for range 2 {
		windowParts.Put(<-op.free)
	}
	return err
}

// finish pads and seals the tier blocks and moves the writer past them.
func (op *onePass) finish() error {
	for _, bw := range op.bws[:len(op.e.Counts)] {
		pad := make([]byte, AlignUp(bw.b.Len)-bw.b.Len)
		if len(pad) > 0 {
			if _, err := op.out.WriteAt(pad, bw.b.Off+bw.b.Len); err != nil {
				return err
			}
			bw.sum(pad)
		}
		if bw.inCnk > 0 {
			bw.b.CRC = append(bw.b.CRC, bw.crc)
		}
		op.e.Rows = append(op.e.Rows, bw.b)
	}
	if _, err := op.out.Seek(op.end, io.SeekStart); err != nil {
		return err
	}
	op.w.off = op.end
	return nil
}

// Close writes the header and trailer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if _, err := structureOf(w.h.Structure, w.names); err != nil {
		return err
	}
	// Map keys in order: the same header, byte for byte, from every run.
	var hbuf bytes.Buffer
	enc := msgpack.NewEncoder(&hbuf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(&w.h); err != nil {
		return err
	}
	hb := hbuf.Bytes()
	if len(hb) > MaxHeader {
		return errors.New("sharkfile: header exceeds its size limit")
	}
	if w.h.Major != w.pre { // goWide checked that w can be written at
		var v [2]byte
		binary.LittleEndian.PutUint16(v[:], uint16(w.h.Major))
		if _, err := w.w.(io.WriterAt).WriteAt(v[:], 8); err != nil {
			return err
		}
	}
	var tr [TrailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(w.off))
	binary.LittleEndian.PutUint64(tr[8:], uint64(len(hb)))
	binary.LittleEndian.PutUint32(tr[16:], crc32.Checksum(hb, castagnoli))
	binary.LittleEndian.PutUint32(tr[20:], crc32.Checksum(tr[:20], castagnoli))
	copy(tr[24:], EndMagic)
	if _, err := w.w.Write(hb); err != nil {
		return err
	}
	if _, err := w.w.Write(tr[:]); err != nil {
		return err
	}
	w.err = errors.New("sharkfile: writer closed")
	return nil
}
