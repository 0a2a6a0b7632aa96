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
	return appendStat(b, s.P, s.SSE[:], s.MaxAbs[:])
}

// appendStat appends a record of either width: p, then sse, then maxAbs,
// little-endian float32s.
func appendStat(b []byte, p float32, sse, maxAbs []float32) []byte {
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(p))
	for _, vs := range [][]float32{sse, maxAbs} {
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return b
}

// decodeStat reads the record appendStat wrote at the start of b into p,
// sse and maxAbs, whose lengths give its width.
func decodeStat(b []byte, p *float32, sse, maxAbs []float32) {
	f := func(j int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:])) }
	*p = f(0)
	for j := range sse {
		sse[j], maxAbs[j] = f(1+j), f(1+len(sse)+j)
	}
}

// NarrowStatBytes is a row's stats in the default tiers alone
// (core.NarrowStat) as spilled to disk: P, then SSE and MaxAbs of fp16,
// int8 and int4, seven little-endian float32s.
const NarrowStatBytes = 4 + 8*(core.DefaultTiers-1)

// appendNarrowStat appends n's record to b.
func appendNarrowStat(b []byte, n *core.NarrowStat) []byte {
	return appendStat(b, n.P, n.SSE[:], n.MaxAbs[:])
}

// decodeNarrowStats decodes len(dst) records from b into dst.
func decodeNarrowStats(dst []core.NarrowStat, b []byte) {
	for r := range dst {
		dst[r] = decodeNarrowStat(b[NarrowStatBytes*r:])
	}
}

// decodeNarrowStat decodes the record at the start of b.
func decodeNarrowStat(b []byte) core.NarrowStat {
	var n core.NarrowStat
	decodeStat(b, &n.P, n.SSE[:], n.MaxAbs[:])
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
		s := &dst[r]
		decodeStat(b[RowStatBytes*r:RowStatBytes*(r+1)], &s.P, s.SSE[:], s.MaxAbs[:])
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
