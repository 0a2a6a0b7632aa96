package sharkfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
}

// NewWriter writes the preamble to w.
func NewWriter(w io.Writer) (*Writer, error) {
	pre := make([]byte, Align)
	copy(pre, Magic)
	binary.LittleEndian.PutUint16(pre[8:], Major)
	binary.LittleEndian.PutUint16(pre[10:], Minor)
	if _, err := w.Write(pre); err != nil {
		return nil, err
	}
	return &Writer{w: w, off: Align, names: map[string]bool{},
		h: Header{Major: Major, Minor: Minor, Chunk: ChunkSize, Codec: Codec}}, nil
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
	e, err := w.beginTable(name, src.Rows(), src.Dim(), tiers, info)
	if err != nil {
		return err
	}
	if ws, ok := w.w.(writeSeeker); ok {
		err = w.tiersOnePass(e, ws, src, tiers, progress)
	} else {
		err = w.tiersPerPass(e, src, tiers, progress)
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
	e, err := w.beginTable(name, len(tiers), dim, TierSlice(tiers), info)
	if err != nil {
		return err
	}
	for t := range rows {
		if want := e.Counts[t] * int64(core.Tier(t).RowBytes(dim)); int64(len(rows[t])) != want {
			return fmt.Errorf("sharkfile: table %q: %d bytes of %v rows, its tiers need %d", name, len(rows[t]), core.Tier(t), want)
		}
	}
	for t := range rows {
		b, err := w.block(func(bw io.Writer) error { _, err := bw.Write(rows[t]); return err })
		if err != nil {
			return err
		}
		e.Rows = append(e.Rows, b)
	}
	w.h.Tensors = append(w.h.Tensors, *e)
	return nil
}

// beginTable claims the name and writes a table's index: the tier codes,
// streamed as the tiers are scanned, and the rank directory.
func (w *Writer) beginTable(name string, rows, dim int, tiers TierSource, info TableInfo) (*Entry, error) {
	if err := w.claim(name); err != nil {
		return nil, err
	}
	if rows > MaxRows || dim < 1 {
		return nil, fmt.Errorf("sharkfile: table %q: %d x %d is outside 1..%d rows and dim >= 1", name, rows, dim, MaxRows)
	}
	e := &Entry{Name: name, Kind: KindTable, DType: string(info.SourceDType), Shape: []int64{int64(rows), int64(dim)},
		Counts: make([]int64, core.NumTiers), Stats: info.Stats, Scores: info.Scores}
	var dir []byte // the directory is small; the codes stream out as scanned
	var err error
	e.Codes, err = w.block(func(bw io.Writer) error {
		dir, err = writeCodes(bw, e, tiers)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e.Dir, err = w.block(func(bw io.Writer) error { _, err := bw.Write(dir); return err }); err != nil {
		return nil, err
	}
	return e, nil
}

// writeCodes writes every row's 2-bit tier code to bw, counting the rows
// of each tier into e.Counts, and returns the rank directory.
func writeCodes(bw io.Writer, e *Entry, tiers TierSource) ([]byte, error) {
	rows := int(e.Shape[0])
	var cnt [core.NumTiers]uint32
	var dir []byte
	buf := make([]byte, 0, 1<<16)
	var cur byte
	seen := 0
	err := tiers.Scan(func(r int, t core.Tier) error {
		if t >= core.NumTiers || r != seen {
			return fmt.Errorf("sharkfile: table %q: row %d has tier %d (or rows out of order)", e.Name, r, t)
		}
		seen++
		if r%DirEvery == 0 && r > 0 {
			for _, c := range cnt {
				dir = binary.LittleEndian.AppendUint32(dir, c)
			}
		}
		cur |= byte(t) << (2 * (r % 4))
		if r%4 == 3 {
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
	if rows%4 != 0 {
		buf = append(buf, cur)
	}
	_, err = bw.Write(buf)
	return dir, err
}

// tiersPerPass writes the four tier blocks to a stream, a pass over the
// source per tier, each window's rows of the tier encoded on every core.
func (w *Writer) tiersPerPass(e *Entry, src core.RowSource, tiers TierSource, progress func(rows int)) error {
	rows, dim := src.Rows(), src.Dim()
	done := 0
	rowsBuf := make([]float32, window*dim)
	for t := core.Tier(0); t < core.NumTiers; t++ {
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
					core.EncodeRows(t, out[a*rb:b*rb], win, dim, ids[a:b])
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
func (w *Writer) tiersOnePass(e *Entry, out writeSeeker, src core.RowSource, tiers TierSource, progress func(int)) error {
	op := newOnePass(w, e, out, src)
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
	rows   []float32 // a window of rows of a source not in memory
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
		off += AlignUp(e.Counts[t] * int64(op.rb[t]))
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
			outs[t] = make([]byte, 0, int(min(int64(op.window), op.e.Counts[t]))*op.rb[t])
		}
		outs[t] = outs[t][:n[t]*op.rb[t]]
	}
	op.enc.Encode(outs, rows, win)
	op.jobs <- outs
	return nil
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
	for _, bw := range op.bws {
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
