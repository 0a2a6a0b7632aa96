package core

import (
	"encoding/binary"
	"math"
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
	// Quantizers for int8 and int4, one pair per core at work: made per
	// part, they were garbage enough to start the collector.
	quantizers sync.Pool
}

// NewTierEncoder returns an encoder for rows of dim values.
func NewTierEncoder(dim int) *TierEncoder {
	// A part, one core's unit of work, is about 1 MiB of source rows: the
	// cores take parts in turn, and each jump to another part breaks the
	// stream the memory prefetches for a core: on this project's machine
	// two cores took 14-34% longer with parts of 256 KiB, 45-50% with
	// 64 KiB (BENCHMARKS.md).
	e := &TierEncoder{dim: dim, part: max(16, (1<<20)/(4*max(dim, 1)))}
	e.quantizers.New = func() any {
		return &[2]kernels.RowQuantizer{kernels.NewRowQuantizer(8, dim), kernels.NewRowQuantizer(4, dim)}
	}
	return e
}

// Counts is the number of rows of each tier in tiers, which must all be
// below NumTiers (as Encode and the writer check before they count).
func Counts(tiers []Tier) [NumTiers]int {
	var n [NumTiers]int
	for _, t := range tiers {
		n[t]++
	}
	return n
}

// Encode encodes the rows of src (len(tiers) rows of dim values), row i in
// tier tiers[i] (each below NumTiers): each tier's rows, in order, to
// consecutive rows at the start of out[t], which must hold them (Counts). The bytes are those of
// EncodeRow on each row. The window is split in parts of consecutive rows,
// a part per core at a time, and each part is read in row order, as memory
// streams best; the quantized tiers' rows go to a kernels.RowQuantizer,
// which encodes them many at a time.
func (e *TierEncoder) Encode(out *[NumTiers][]byte, src []float32, tiers []Tier) {
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
		qs := e.quantizers.Get().(*[2]kernels.RowQuantizer)
		q8, q4 := qs[0], qs[1]
		at := before[p]
		// The tiers' next rows, each a slice moving through its buffer.
		o32, o16 := out[FP32][at[FP32]*rb[FP32]:], out[FP16][at[FP16]*rb[FP16]:]
		o8, o4 := out[INT8][at[INT8]*rb[INT8]:], out[INT4][at[INT4]*rb[INT4]:]
		lo := p * part
		for i, t := range tiers[lo:min(len(tiers), lo+part)] {
			row := src[(lo+i)*dim : (lo+i+1)*dim]
			switch t {
			case FP32:
				for j, v := range row {
					binary.LittleEndian.PutUint32(o32[4*j:], math.Float32bits(v))
				}
				o32 = o32[rb[FP32]:]
			case FP16:
				kernels.FloatsToHalfBytes(o16[:rb[FP16]], row)
				o16 = o16[rb[FP16]:]
			case INT8:
				q8.Add(o8[:rb[INT8]], row)
				o8 = o8[rb[INT8]:]
			case INT4:
				q4.Add(o4[:rb[INT4]], row)
				o4 = o4[rb[INT4]:]
			}
		}
		q8.Flush()
		q4.Flush()
		e.quantizers.Put(qs)
	})
}
