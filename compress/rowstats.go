package compress

import (
	"encoding/binary"
	"fmt"
	"math"

	"shark/core"
)

// RowStatBytes is a row's stats as bytes, as spilled to disk and as a
// Helper's answer crosses: P, then SSE and MaxAbs of each lossy tier (fp16
// to int2-block), fifteen little-endian float32s. This file is the one
// codec of that record.
const RowStatBytes = 4 + 8*(core.NumTiers-1)

// appendRowStat appends s's record to b.
func appendRowStat(b []byte, s *core.RowStat) []byte {
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s.P))
	for _, v := range s.SSE {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range s.MaxAbs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// NarrowStatBytes is a row's stats in the default tiers alone
// (core.NarrowStat) as spilled to disk: P, then SSE and MaxAbs of fp16,
// int8 and int4, seven little-endian float32s.
const NarrowStatBytes = 4 + 8*(core.DefaultTiers-1)

// appendNarrowStat appends n's record to b.
func appendNarrowStat(b []byte, n *core.NarrowStat) []byte {
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(n.P))
	for _, v := range n.SSE {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range n.MaxAbs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// decodeNarrowStat decodes the record at the start of b.
func decodeNarrowStat(b []byte) core.NarrowStat {
	f := func(j int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:])) }
	n := core.NarrowStat{P: f(0)}
	const lossy = core.DefaultTiers - 1
	for j := range lossy {
		n.SSE[j], n.MaxAbs[j] = f(1+j), f(1+lossy+j)
	}
	return n
}

// AppendRowStats appends the records of stats to b.
func AppendRowStats(b []byte, stats []core.RowStat) []byte {
	for i := range stats {
		b = appendRowStat(b, &stats[i])
	}
	return b
}

// decodeRowStats decodes len(dst) records from b into dst.
func decodeRowStats(dst []core.RowStat, b []byte) {
	for r := range dst {
		rec := b[RowStatBytes*r : RowStatBytes*(r+1)]
		f := func(j int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(rec[4*j:])) }
		s := &dst[r]
		s.P = f(0)
		const lossy = core.NumTiers - 1
		for j := range lossy {
			s.SSE[j], s.MaxAbs[j] = f(1+j), f(1+lossy+j)
		}
	}
}

// ReadRowStats reads what AppendRowStats wrote.
func ReadRowStats(b []byte) ([]core.RowStat, error) {
	if len(b)%RowStatBytes != 0 {
		return nil, fmt.Errorf("%w: %d bytes of row stats, not a multiple of %d", core.ErrInvalid, len(b), RowStatBytes)
	}
	out := make([]core.RowStat, len(b)/RowStatBytes)
	decodeRowStats(out, b)
	return out, nil
}
