package core

import (
	"fmt"
	"math"

	"shark/core/kernels"
	"shark/core/par"
)

// RowError is the reconstruction error of one row in each tier.
type RowError struct {
	SSE    [NumTiers]float64 // sum of squared differences; +Inf where the tier cannot hold the row
	MaxAbs [NumTiers]float64
	// Zero marks the lossy tiers in which a row that is not all zeros
	// decodes to all zeros (every value below what the tier resolves).
	Zero [NumTiers]bool
}

// unfit marks every lossy tier as unable to hold a row.
func (e *RowError) unfit() {
	for t := FP16; t < NumTiers; t++ {
		e.SSE[t], e.MaxAbs[t] = math.Inf(1), math.Inf(1)
	}
}

// unmeasured marks the tiers after the default ones as unable to hold the
// row: a measure that does not look at them keeps every rule from picking
// them.
func (e *RowError) unmeasured() {
	for t := Tier(DefaultTiers); t < NumTiers; t++ {
		e.SSE[t], e.MaxAbs[t] = math.Inf(1), math.Inf(1)
	}
}

// MeasureRow is the error of row in every tier, what encoding it and
// decoding it gives, and its L2 norm (kernels.RowErrors, in one pass). A
// row with a NaN or an infinity can only be stored exactly: its lossy tiers
// get an infinite error so that no assignment picks them. So does each tier
// that cannot hold a finite row: a value past binary16's largest (fp16), or
// a scale or bias that is (int8, int4). Such a tier decodes the row to an
// infinity or a NaN, so its measured error is not finite: the error says
// it, with no second look at the row.
func MeasureRow(row []float32) (RowError, float64) {
	if len(row) == 0 {
		return RowError{}, 0
	}
	k, ok := kernels.RowErrors(row)
	return rowError(row, k, ok)
}

// rowError is MeasureRow of a non-empty row measured by the kernel as k, ok.
func rowError(row []float32, k kernels.TierErrors, ok bool) (RowError, float64) {
	var e RowError
	if !ok {
		e.unfit()
		return e, math.Inf(1)
	}
	for t := FP16; t < DefaultTiers; t++ {
		e.SSE[t], e.MaxAbs[t] = k.SSE[t-1], k.MaxAbs[t-1]
		if !finite(e.SSE[t]) {
			e.SSE[t], e.MaxAbs[t] = math.Inf(1), math.Inf(1)
		}
	}
	e.unmeasured()
	e.Zero = zeroTiers(row, k.SumSquares)
	return e, math.Sqrt(k.SumSquares)
}

func finite(x float64) bool { return x <= math.MaxFloat64 && x >= -math.MaxFloat64 }

// tinyValue bounds the values of a row that some lossy tier decodes to all
// zeros: an int8 row's scale, (max-min)/255, must round to binary16's zero
// (at most 2^-25) for every code to be 0, so every value is below
// 255*2^-25 < 1e-5 (fp16 and int4 zero rows below less). A row whose sum of
// squares is above dim*tinyValue^2 has a larger value, and no tier zeroes it.
const tinyValue = 1e-5

// zeroTiers marks the lossy tiers in which a row, not all zeros, decodes to
// all zeros. Only rows of tiny values are encoded to see (sumSquares, the
// row's sum of squares, rules the rest out), so the common row costs a
// compare.
func zeroTiers(row []float32, sumSquares float64) [NumTiers]bool {
	var z [NumTiers]bool
	if sumSquares == 0 || sumSquares > float64(len(row))*tinyValue*tinyValue {
		return z
	}
	z[FP16] = true
	for _, v := range row {
		if kernels.FloatToHalf(v)&0x7fff != 0 {
			z[FP16] = false
			break
		}
	}
	var small [256]byte // the codes of rows up to 252 wide, without an allocation
	buf := small[:]
	if n := kernels.RowBytes(8, len(row)); n > len(buf) {
		buf = make([]byte, n)
	}
	z[INT8], z[INT4] = decodesToZero(8, row, buf), decodesToZero(4, row, buf)
	return z
}

// decodesToZero reports whether a finite row encoded with the bits-bit
// rowwise codec decodes to all zeros: every code 0 and a zero bias, as its
// scale is never 0 (the codec puts 1 in its place).
func decodesToZero(bits int, row []float32, buf []byte) bool {
	b := buf[:kernels.RowBytes(bits, len(row))]
	kernels.QuantizeRow(bits, b, row)
	_, bias := kernels.ScaleBias(bits, len(row), b)
	if bias != 0 {
		return false
	}
	for _, c := range b[:len(b)-4] {
		if c != 0 {
			return false
		}
	}
	return true
}

// MeasureChunk is the number of rows read and measured as one unit of
// parallel work.
const MeasureChunk = 2048

// PriorityFunc fills dst with the priorities of rows [lo, hi). It is
// called from several goroutines at once, a stretch at a time, so that
// priorities can be read from a file.
type PriorityFunc func(lo, hi int, dst []float64) error

// measureRound is the rows read and measured together: 8 chunks, one per
// core at a time, so memory stays at two rounds of rows.
const measureRound = 8 * MeasureChunk

// MeasureStats reads every row of src once, in row order (a source that
// can only stream, a deflated .npz member, is read as it must be), and
// measures them in chunks on all cores while the next rows are read; it
// hands each row's stats to emit in row order. A nil prio means each row's
// L2 norm (the fallback when no access counts are known: large rows move
// the model's output most), its squares summed in float64 in eight lanes
// (kernels.RowErrors).
func MeasureStats(src RowSource, prio PriorityFunc, emit func(r int, s RowStat) error, progress func(done int)) error {
	return MeasureStatsWith(src, prio, Measure{}, emit, progress)
}

// Measure says what MeasureStatsWith measures besides the default tiers
// (fp16, int8, int4), which it always does.
type Measure struct {
	// Tiers marks the tiers to measure: int2, and the block tiers, each
	// row's error under its block's parameters. The others get an
	// infinite error, so that no rule picks them.
	Tiers [NumTiers]bool
	// Block is the rows per block of the block tiers (0: DefaultBlock):
	// blocks of consecutive rows from row 0 of the source.
	Block int
}

// MeasureFor is the Measure of the tiers allowed, in blocks of block rows.
func MeasureFor(allowed [NumTiers]bool, block int) Measure {
	return Measure{Tiers: allowed, Block: block}
}

// blocks reports whether some block tier is measured.
func (m Measure) blocks() bool {
	for t := INT8B; t < NumTiers; t++ {
		if m.Tiers[t] {
			return true
		}
	}
	return false
}

// MeasureStatsWith is MeasureStats measuring the tiers m names too. With
// block tiers, each chunk of rows measured is whole blocks.
func MeasureStatsWith(src RowSource, prio PriorityFunc, m Measure, emit func(r int, s RowStat) error, progress func(done int)) error {
	if m.Block == 0 {
		m.Block = DefaultBlock
	}
	if m.Block < 1 {
		return fmt.Errorf("%w: blocks of %d rows", ErrInvalid, m.Block)
	}
	return measure(&measurer{src: src, prio: prio, errors: true, m: m}, emit, progress)
}

// MeasurePriorities is MeasureStats for assignments that need no errors
// (fixed fractions, thresholds): each row's priority, and an infinite
// error in every lossy tier for a row holding a NaN or an infinity, which
// must stay at fp32; the other errors are 0. With prio given, a row is read
// for that check alone.
func MeasurePriorities(src RowSource, prio PriorityFunc, emit func(r int, s RowStat) error, progress func(done int)) error {
	return measure(&measurer{src: src, prio: prio}, emit, progress)
}

func measure(m *measurer, emit func(r int, s RowStat) error, progress func(done int)) error {
	src := m.src
	n := src.Rows()
	chunk := MeasureChunk
	if m.m.blocks() { // whole blocks a chunk, so a chunk knows its blocks' parameters
		chunk = max(1, (MeasureChunk+m.m.Block-1)/m.m.Block) * m.m.Block
	}
	// A round is 8 chunks while chunks are small, one when a block makes
	// a chunk large: memory stays at two rounds of rows.
	rounds, stop := readRounds(src, max(chunk, measureRound/chunk*chunk))
	defer close(stop)
	bufs := make([]chunkBuf, measureRound/MeasureChunk) // a chunk's buffers, kept from round to round
	errs := make([]error, len(bufs))
	for b := range rounds {
		if b.err != nil {
			return b.err
		}
		k := (b.hi - b.lo + chunk - 1) / chunk
		par.For(k, 0, func(c int) {
			lo := b.lo + c*chunk
			hi := min(lo+chunk, b.hi)
			errs[c] = m.chunk(lo, hi, b.rows[(lo-b.lo)*m.src.Dim():(hi-b.lo)*m.src.Dim()], &bufs[c])
		})
		b.done()
		for c := range k {
			if errs[c] != nil {
				return errs[c]
			}
			for i, s := range bufs[c].out {
				if err := emit(b.lo+c*chunk+i, s); err != nil {
					return err
				}
			}
		}
		if progress != nil {
			progress(min(n, b.hi))
		}
	}
	return nil
}

// round is rows [lo, hi) of a source, read.
type round struct {
	lo, hi int
	rows   []float32
	err    error
	done   func() // hands the buffer back to the reader
}

// readRounds reads src a round (of size rows) at a time, in row order,
// into one of two buffers, until stop is closed.
func readRounds(src RowSource, size int) (<-chan round, chan struct{}) {
	n, d := src.Rows(), src.Dim()
	out, stop := make(chan round), make(chan struct{})
	free := make(chan []float32, 2)
	for range 2 {
		free <- make([]float32, min(n, size)*d)
	}
	go func() {
		defer close(out)
		for lo := 0; lo < n; lo += size {
			var buf []float32
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			hi := min(n, lo+size)
			r := round{lo: lo, hi: hi, rows: buf[:(hi-lo)*d], done: func() { free <- buf }}
			if err := ReadRows(src, lo, hi, r.rows); err != nil {
				r.err = fmt.Errorf("reading rows %d..%d: %w", lo, hi, err)
			}
			select {
			case out <- r:
			case <-stop:
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	return out, stop
}

// measurer is MeasureStats' work on one chunk of rows.
type measurer struct {
	src    RowSource
	prio   PriorityFunc
	errors bool    // the rows' errors too, not only their priorities
	m      Measure // with errors: the tiers measured besides the default ones
}

// chunkBuf is one chunk's stats and scratch, reused from round to round:
// a chunk of 2,048 rows would otherwise allocate 150 KB each time.
type chunkBuf struct {
	out []RowStat
	pr  []float64
	ks  []kernels.TierErrors
	oks []bool
}

// chunk measures rows [lo, hi), read into rows, into buf.out.
func (m *measurer) chunk(lo, hi int, rows []float32, buf *chunkBuf) error {
	d, n := m.src.Dim(), hi-lo
	buf.pr = resize(buf.pr, n)
	pr := buf.pr
	if m.prio != nil {
		if err := m.prio(lo, hi, pr); err != nil {
			return fmt.Errorf("priorities of rows %d..%d: %w", lo, hi, err)
		}
	}
	buf.out = resize(buf.out, n)
	if !m.m.blocks() && !(m.errors && m.m.Tiers[INT2]) && d > 0 {
		m.defaultChunk(rows, d, buf)
		return nil
	}
	var ks []kernels.TierErrors
	var oks []bool
	int2 := m.errors && m.m.Tiers[INT2] && d > 0
	if m.errors && d > 0 && !int2 { // the chunk's rows in one batch: the page's SIMD module is called once
		ks, oks = make([]kernels.TierErrors, n), make([]bool, n)
		kernels.RowsErrors(rows, d, ks, oks)
	}
	es := make([]RowError, n)
	for i := range pr {
		row := rows[i*d : (i+1)*d]
		var norm float64
		switch {
		case int2:
			es[i], norm = measureRow4(row)
		case m.errors && d > 0:
			es[i], norm = rowError(row, ks[i], oks[i])
		case m.errors:
			es[i], norm = MeasureRow(row)
		default:
			es[i], norm = priorityOnly(row)
		}
		if m.prio == nil {
			pr[i] = norm
		}
	}
	if m.errors && m.m.blocks() {
		measureBlocks(rows, d, m.m, es)
	}
	for i, e := range es {
		buf.out[i] = StatOf(pr[i], e)
	}
	return nil
}

// defaultChunk is chunk's usual case, rows of some width measured in the
// default tiers alone (or for their priorities alone): each row's stat
// written in place (defaultStat, priorityStat), without the RowError of
// every tier that StatOf packs, which cost a tenth of the measuring pass
// in copies.
func (m *measurer) defaultChunk(rows []float32, d int, buf *chunkBuf) {
	n := len(buf.out)
	if m.errors {
		buf.ks, buf.oks = resize(buf.ks, n), resize(buf.oks, n)
		kernels.RowsErrors(rows, d, buf.ks, buf.oks) // one batch: the page's SIMD module is called once
	}
	for i := range buf.out {
		row := rows[i*d : (i+1)*d]
		s := &buf.out[i]
		var norm float64
		if m.errors {
			norm = defaultStat(s, row, &buf.ks[i], buf.oks[i])
		} else {
			norm = priorityStat(s, row)
		}
		if m.prio == nil {
			buf.pr[i] = norm
		}
		s.P = float32(buf.pr[i])
	}
}

// resize is b with length n, its array reused when large enough.
func resize[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// defaultStat sets *s to StatOf(p, e) but for P, with e, norm :=
// rowError(row, *k, ok), and returns norm; it writes the stat in place.
func defaultStat(s *RowStat, row []float32, k *kernels.TierErrors, ok bool) float64 {
	s.SSE, s.MaxAbs = allUnfit, allUnfit
	if !ok {
		return math.Inf(1)
	}
	for t := FP16; t < DefaultTiers; t++ {
		if finite(k.SSE[t-1]) {
			s.SSE[t-1], s.MaxAbs[t-1] = float32(k.SSE[t-1]), float32(k.MaxAbs[t-1])
		}
	}
	markZeroes(s, row, k.SumSquares)
	return math.Sqrt(k.SumSquares)
}

// priorityStat sets *s to StatOf(p, e) but for P, with e, norm :=
// priorityOnly(row), and returns norm: a row every tier holds (below
// hugeNorm) takes errors of 0 in the default tiers, in place; any other
// row goes through priorityOnly.
func priorityStat(s *RowStat, row []float32) float64 {
	sq, ok := kernels.RowNorm(row)
	if !ok || sq >= hugeNorm*hugeNorm {
		e, norm := priorityOnly(row)
		*s = StatOf(0, e)
		return norm
	}
	s.SSE, s.MaxAbs = heldUnmeasured, heldUnmeasured
	markZeroes(s, row, sq)
	return math.Sqrt(sq)
}

// allUnfit is the errors of a row no lossy tier holds, before defaultStat
// fills in those measured.
var allUnfit = func() (e [NumTiers - 1]float32) {
	for i := range e {
		e[i] = float32(math.Inf(1))
	}
	return e
}()

// heldUnmeasured is priorityStat's errors of a row every tier holds: 0 in
// the default lossy tiers, unmeasured (infinite) in the later ones.
var heldUnmeasured = func() (e [NumTiers - 1]float32) {
	for t := Tier(DefaultTiers); t < NumTiers; t++ {
		e[t-1] = float32(math.Inf(1))
	}
	return e
}()

// markZeroes sets the sign of the largest error of each tier that decodes
// the row to all zeros (zeroTiers), as StatOf does.
func markZeroes(s *RowStat, row []float32, sumSquares float64) {
	if sumSquares == 0 || sumSquares > float64(len(row))*tinyValue*tinyValue {
		return // zeroTiers rules the row out at once
	}
	z := zeroTiers(row, sumSquares)
	for t := FP16; t < NumTiers; t++ {
		if z[t] {
			s.MaxAbs[t-1] = float32(math.Copysign(float64(s.MaxAbs[t-1]), -1))
		}
	}
}

// measureRow4 is MeasureRow with the int2 tier measured too
// (kernels.RowErrors4, one pass).
func measureRow4(row []float32) (RowError, float64) {
	k4, ok := kernels.RowErrors4(row)
	k := kernels.TierErrors{SumSquares: k4.SumSquares}
	copy(k.SSE[:], k4.SSE[:3])
	copy(k.MaxAbs[:], k4.MaxAbs[:3])
	e, norm := rowError(row, k, ok)
	if ok && finite(k4.SSE[3]) {
		e.SSE[INT2], e.MaxAbs[INT2] = k4.SSE[3], k4.MaxAbs[3]
		e.Zero[INT2] = zeroIn(2, row, k4.SumSquares)
	}
	return e, norm
}

// zeroIn reports whether the bits-bit rowwise codec decodes a finite row
// of the given sum of squares, not all zeros, to all zeros.
func zeroIn(bits int, row []float32, sumSquares float64) bool {
	if sumSquares == 0 || sumSquares > float64(len(row))*tinyValue*tinyValue {
		return false
	}
	buf := make([]byte, kernels.RowBytes(bits, len(row)))
	return decodesToZero(bits, row, buf)
}

// measureBlocks sets the block tiers' errors of rows (whole blocks of
// m.Block rows from the first, the last perhaps shorter) in es: each row's
// error under its block's parameters, for the rows every lossy tier holds
// (the others keep an infinite error: unmeasured).
func measureBlocks(rows []float32, dim int, m Measure, es []RowError) {
	var tiers []Tier
	for t := INT8B; t < NumTiers; t++ {
		if m.Tiers[t] {
			tiers = append(tiers, t)
		}
	}
	params := make([]uint16, 0, 2*len(tiers))
	for lo := 0; lo < len(es); lo += m.Block {
		hi := min(len(es), lo+m.Block)
		params = blockParamsOf(params[:0], rows[lo*dim:hi*dim], dim, tiers)
		for r := lo; r < hi; r++ {
			row := rows[r*dim : (r+1)*dim]
			if _, _, held := kernels.HeldMinMax(row); !held {
				continue
			}
			none := allZero(row)
			for i, t := range tiers {
				sse, maxAbs, zero := kernels.BlockTierError(t.Bits(), row, params[2*i], params[2*i+1])
				if none && !zero {
					// A row of zeros (a padding row) must read back as
					// zeros, as every rowwise tier keeps it; its block's
					// parameters, taken from other rows, need not, and
					// its priority is often 0, so no error would stop the
					// solver from choosing the tier.
					sse, maxAbs = math.Inf(1), math.Inf(1)
				}
				es[r].SSE[t], es[r].MaxAbs[t] = sse, maxAbs
				es[r].Zero[t] = zero && !none
			}
		}
	}
}

// allZero reports whether every value of row is 0 (+0 or -0).
func allZero(row []float32) bool {
	for _, v := range row {
		if v != 0 {
			return false
		}
	}
	return true
}

// priorityOnly is MeasureRow without the errors: the norm, and infinite
// errors in the tiers that cannot hold the row (all of them, for a row that
// is not finite). A row whose norm is below hugeNorm has no value near
// binary16's largest, and every tier holds it; the rare larger row is
// measured in full to see which do.
func priorityOnly(row []float32) (RowError, float64) {
	var e RowError
	s, ok := kernels.RowNorm(row)
	if !ok {
		e.unfit()
		return e, math.Inf(1)
	}
	if s >= hugeNorm*hugeNorm {
		full, _ := MeasureRow(row)
		for t := FP16; t < NumTiers; t++ {
			if math.IsInf(full.SSE[t], 1) {
				e.SSE[t], e.MaxAbs[t] = full.SSE[t], full.MaxAbs[t]
			}
		}
	}
	e.unmeasured()
	e.Zero = zeroTiers(row, s)
	return e, math.Sqrt(s)
}

// hugeNorm is a norm below which every lossy tier holds a row: each value
// is then below 32768, so rounds to a finite binary16, and so do an int8 or
// int4 row's bias (its minimum) and scale (its range, under 65536, over 15
// or 255).
const hugeNorm = 32768
