package compress

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"unsafe"

	"shark/core"
	"shark/internal/atomicfile"
)

type memStats struct{ core.MemStats }

func (m *memStats) add(s core.RowStat) error { m.MemStats = append(m.MemStats, s); return nil }
func (m *memStats) finish() error            { return nil }

// narrowStats keeps the stats of a table measured in the default tiers
// only, 28 bytes a row (core.NarrowStat).
type narrowStats struct{ core.NarrowStats }

func (m *narrowStats) add(s core.RowStat) error {
	if !core.Narrowable(&s) {
		return fmt.Errorf("%w: a row measured in a tier after int4 kept as the default tiers' stats", core.ErrInvalid)
	}
	m.NarrowStats = append(m.NarrowStats, core.NarrowOf(&s))
	return nil
}
func (m *narrowStats) finish() error { return nil }

// fileStats spills row stats to a temporary file, RowStatBytes a row, and scans
// them back, in ranges on every core for the solver: a table's per-row state
// then costs disk, not memory.
type fileStats struct {
	f      *os.File
	w      *bufio.Writer
	n      int
	narrow bool // records of the default tiers only, NarrowStatBytes each
	buf    [RowStatBytes]byte
}

func newFileStats(narrow bool) (*fileStats, error) {
	f, err := atomicfile.CreateScratch("shark-stats-*")
	if err != nil {
		return nil, fmt.Errorf("spilling row stats: %w", err)
	}
	return &fileStats{f: f, w: bufio.NewWriterSize(f, 1<<20), narrow: narrow}, nil
}

func (fs *fileStats) add(s core.RowStat) error {
	fs.n++
	if !fs.narrow {
		_, err := fs.w.Write(appendRowStat(fs.buf[:0], &s))
		return err
	}
	if !core.Narrowable(&s) {
		return fmt.Errorf("%w: a row measured in a tier after int4 spilled as the default tiers' stats", core.ErrInvalid)
	}
	n := core.NarrowOf(&s)
	_, err := fs.w.Write(appendNarrowStat(fs.buf[:0], &n))
	return err
}

func (fs *fileStats) finish() error { return fs.w.Flush() }

func (fs *fileStats) Len() int { return fs.n }

func (fs *fileStats) Scan(fn func(r int, s *core.RowStat)) error { return fs.ScanRange(0, fs.n, fn) }

// ScanRange reads rows [lo, hi) back in blocks with ReadAt, so that several
// ranges can be read at once (core.RangeStats). The records are read
// straight into RowStats (NarrowStats, each then filled into one widened
// RowStat): a record in memory is the bytes add writes, little-endian
// float32s, on the little-endian machines Go targets (hostLittle; others
// decode each).
func (fs *fileStats) ScanRange(lo, hi int, fn func(r int, s *core.RowStat)) error {
	if !fs.narrow {
		return scanRecords(fs.f, lo, hi, RowStatBytes, decodeRowStats, fn)
	}
	var s core.RowStat
	return scanRecords(fs.f, lo, hi, NarrowStatBytes, decodeNarrowStats, func(r int, n *core.NarrowStat) {
		if r == lo {
			n.Widen(&s)
		}
		n.Fill(&s)
		fn(r, &s)
	})
}

// scanRecords reads records [lo, hi) of size bytes each from f in blocks
// with ReadAt, straight into Ts (decode turns the bytes into them where
// the host is not little-endian), and passes each to fn.
func scanRecords[T any](f *os.File, lo, hi, size int, decode func(dst []T, b []byte), fn func(r int, rec *T)) error {
	const block = 4096 // rows read at once
	recs := make([]T, min(block, max(hi-lo, 0)))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(recs))), len(recs)*size)
	for r0 := lo; r0 < hi; r0 += block {
		k := min(block, hi-r0)
		b := raw[:k*size]
		if _, err := f.ReadAt(b, int64(r0)*int64(size)); err != nil {
			return fmt.Errorf("reading spilled row stats %d..%d: %w", r0, r0+k, err)
		}
		if !hostLittle {
			decode(recs[:k], b)
		}
		for i := range k {
			fn(r0+i, &recs[i])
		}
	}
	return nil
}

// hostLittle: the machine stores a float32 as its little-endian bytes.
var hostLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// remove frees the spilled stats (the file has no name).
func (fs *fileStats) remove() error { return fs.f.Close() }

// priorityStore holds a table's priorities while countsPriorities adds up
// its counts and MeasureStats reads them; read is safe from several
// goroutines at once.
type priorityStore interface {
	read(lo, hi int, dst []float64) error
	write(lo int, vals []float64) error
}

// memPriorities holds them in memory.
type memPriorities []float64

func (m memPriorities) read(lo, hi int, dst []float64) error { copy(dst, m[lo:hi]); return nil }
func (m memPriorities) write(lo int, vals []float64) error   { copy(m[lo:], vals); return nil }

// priorityFile holds them in a temporary file, 8 bytes a row: for tables
// that spill their stats.
type priorityFile struct{ f *os.File }

func newPriorityFile() (*priorityFile, error) {
	f, err := atomicfile.CreateScratch("shark-priorities-*")
	if err != nil {
		return nil, fmt.Errorf("spilling priorities: %w", err)
	}
	return &priorityFile{f: f}, nil
}

func (pf *priorityFile) read(lo, hi int, dst []float64) error {
	b := make([]byte, 8*(hi-lo))
	if _, err := pf.f.ReadAt(b, int64(lo)*8); err != nil {
		return fmt.Errorf("reading spilled priorities %d..%d: %w", lo, hi, err)
	}
	for i := range dst[:hi-lo] {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return nil
}

func (pf *priorityFile) write(lo int, vals []float64) error {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	if _, err := pf.f.WriteAt(b, int64(lo)*8); err != nil {
		return fmt.Errorf("spilling priorities: %w", err)
	}
	return nil
}

func (pf *priorityFile) remove() { pf.f.Close() }

// The records are RowStats (NarrowStats) in memory: RowStatBytes
// (NarrowStatBytes), no padding.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(core.RowStat{})-RowStatBytes]
	_ = [1]struct{}{}[unsafe.Sizeof(core.NarrowStat{})-NarrowStatBytes]
)
