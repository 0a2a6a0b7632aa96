package core

import (
	"sync"

	"shark/core/kernels"
	"shark/core/par"
)

// TierEncoder encodes windows of rows into one buffer per tier, on every
// core: the encoding step of a .shark table's writer and of Encode. One
// Encode at a time. Its quantizers, once made, keep the kernels that were
// in use then (see kernels.ForcePortable).
type TierEncoder struct {
	dim, part int
	before    [][NumTiers]int // per part: the rows of each tier before it
	// Quantizers for int8 and int4 (nil for the float tiers), a set per
	// core at work: made per part, they were garbage enough to start the
	// collector.
	quantizers sync.Pool
}

// NewTierEncoder returns an encoder for rows of dim values.
func NewTierEncoder(dim int) *TierEncoder {
	// A part, one core's unit of work, is about 1 MiB of source rows: the
	// cores take parts in turn, and each jump to another part breaks the
	// stream the memory prefetches for a core, so parts are large.
	e := &TierEncoder{dim: dim, part: max(16, (1<<20)/(4*max(dim, 1)))}
	e.quantizers.New = func() any {
		return &[NumTiers]kernels.RowQuantizer{INT8: kernels.NewRowQuantizer(8, dim), INT4: kernels.NewRowQuantizer(4, dim),
			INT2: kernels.NewRowQuantizer(2, dim)}
	}
	return e
}

// encodeError encodes row r, in tier t (not fp32), into dst and returns its
// error: int8 and int4 in one walk, the others encoded as EncodeAt does
// (q, t's quantizer, if it has one) and measured after. (The int8 and int4
// rows bypass a quantizer kernels.SetRowQuantizer installed: the page's,
// whose writes stream, a pass per tier, and report no errors.)
func encodeError(t Tier, dst []byte, row []float32, q kernels.RowQuantizer, bp *BlockParams, r int) EncodedError {
	if t == INT8 || t == INT4 {
		sse, mx := kernels.QuantizeRowError(t.Bits(), dst, row)
		return EncodedError{sse, mx}
	}
	switch {
	case q != nil:
		q.Add(dst, row) // written by the part's Flush
	case t.Block():
		s, b := bp.Of(t, r)
		EncodeBlockRow(t, dst, row, s, b)
	default:
		EncodeRow(t, dst, row)
	}
	sse, mx := kernels.TierError(int(t)-1, row)
	return EncodedError{sse, mx}
}

// Encode encodes the rows of src (len(tiers) rows of dim values), row i in
// tier tiers[i] (each below NumTiers): each tier's rows, in order, to
// consecutive rows at the start of out[t], which must hold them (Counts).
// The bytes are those of EncodeRow on each row. The window is split in parts of consecutive rows,
// a part per core at a time, and each part is read in row order, as memory
// streams best; the quantized tiers' rows go to a kernels.RowQuantizer,
// which encodes them many at a time. It returns the rows of each tier.
func (e *TierEncoder) Encode(out *[NumTiers][]byte, src []float32, tiers []Tier) [NumTiers]int {
	return e.EncodeAt(out, src, tiers, 0, nil)
}

// EncodeAt is Encode for rows numbered from lo in their table, whose
// block-tier rows (if any) take their codes under bp, the table's block
// parameters (which must hold those tiers: a programming error else).
func (e *TierEncoder) EncodeAt(out *[NumTiers][]byte, src []float32, tiers []Tier, lo int, bp *BlockParams) [NumTiers]int {
	return e.EncodeErrorsAt(out, src, tiers, lo, bp, nil)
}

// EncodedError is a row's error in the tier it was encoded in, as
// kernels.TierError measures it (zero for fp32).
type EncodedError struct{ SSE, MaxAbs float64 }

// An ErrorSink is a RowSource that records the errors of its rows as they
// are written. A writer that encodes every row once, in windows in row
// order, calls ReportErrors before it reads a row, then EncodedErrors with
// each window's errors (TierEncoder.EncodeErrorsAt), so that the source
// need not measure the rows it hands over.
type ErrorSink interface {
	RowSource
	ReportErrors()
	EncodedErrors(lo int, tiers []Tier, errs []EncodedError) error
}

// EncodeErrorsAt is EncodeAt that also sets errs[i] (when errs is not nil)
// to row i's error in its tier, kernels.TierError(tier-1, row) for every
// tier but fp32: a writer that records the errors of the rows it writes
// gets them without a second walk of each row, as the int8 and int4 rows
// are measured in the walk that writes their codes
// (kernels.QuantizeRowError).
func (e *TierEncoder) EncodeErrorsAt(out *[NumTiers][]byte, src []float32, tiers []Tier, lo int, bp *BlockParams, errs []EncodedError) [NumTiers]int {
	dim, part := e.dim, e.part
	parts := (len(tiers) + part - 1) / part
	if cap(e.before) < parts {
		e.before = make([][NumTiers]int, parts)
	}
	before := e.before[:parts]
	var n [NumTiers]int
	for p := range parts {
		before[p] = n
		for _, t := range tiers[p*part : min(len(tiers), (p+1)*part)] {
			n[t]++
		}
	}
	var rb [NumTiers]int
	for t := range rb {
		rb[t] = Tier(t).RowBytes(dim)
	}
	par.For(parts, 0, func(p int) {
		qs := e.quantizers.Get().(*[NumTiers]kernels.RowQuantizer)
		// Each tier's next row, a slice moving through its buffer.
		var o [NumTiers][]byte
		for t := range o {
			o[t] = out[t][before[p][t]*rb[t]:]
		}
		first := p * part
		for i, t := range tiers[first:min(len(tiers), first+part)] {
			row := src[(first+i)*dim : (first+i+1)*dim]
			dst := o[t][:rb[t]]
			o[t] = o[t][rb[t]:]
			if errs != nil && t != FP32 {
				errs[first+i] = encodeError(t, dst, row, qs[t], bp, lo+first+i)
				continue
			}
			if errs != nil {
				errs[first+i] = EncodedError{}
			}
			if q := qs[t]; q != nil {
				q.Add(dst, row)
			} else if t.Block() {
				s, b := bp.Of(t, lo+first+i)
				EncodeBlockRow(t, dst, row, s, b)
			} else {
				EncodeRow(t, dst, row)
			}
		}
		for _, q := range qs {
			if q != nil {
				q.Flush()
			}
		}
		e.quantizers.Put(qs)
	})
	return n
}
