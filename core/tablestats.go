package core

import "math"

// TableStats summarises a table's assignment and reconstruction error.
type TableStats struct {
	Rows, Dim   int
	Tiers       [NumTiers]int64 // rows per tier
	BytesBefore int64           // fp32
	BytesAfter  int64           // stored, index and padding included
	RMSE        float64         // over all values
	MaxAbsErr   float64
	WeightedErr float64 // sum P_r * SSE_r
}

// StatsOf summarises a table from its row stats and a tier for each row,
// stored as st lays it out.
func StatsOf(dim int, rows StatStore, tier TierFunc, st Storage) (TableStats, error) {
	ts := TableStats{Rows: rows.Len(), Dim: dim, BytesBefore: int64(rows.Len()) * int64(dim) * 4}
	sse := 0.0
	err := rows.Scan(func(r int, s *RowStat) {
		t := tier(r, s)
		ts.Tiers[t]++
		if t != FP32 {
			sse += float64(s.SSE[t-1])
			ts.MaxAbsErr = math.Max(ts.MaxAbsErr, float64(s.MaxAbs[t-1]))
			ts.WeightedErr += float64(s.P) * float64(s.SSE[t-1])
		}
	})
	if n := rows.Len() * dim; n > 0 {
		ts.RMSE = math.Sqrt(sse / float64(n))
	}
	ts.BytesAfter = st.TableBytes(dim, ts.Tiers)
	return ts, err
}
