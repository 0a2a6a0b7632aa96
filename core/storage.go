package core

// Storage is how a container lays out a mixed-precision table: budgets are
// met in its bytes (index and padding included), so that a budget holds for
// the file as written. The method knows no container; the caller passes
// the one it writes (sharkfile.Storage for .shark files).
type Storage struct {
	// TableBytes is the stored size of a table of dim-wide rows with
	// counts[t] rows in tier t.
	TableBytes func(dim int, counts [NumTiers]int64) int64
	// Padding bounds what the layout adds to each tier's rows beyond a part
	// that depends on the row count alone: the solver's estimates allow
	// for that much either way.
	Padding int64
}

// RowsOnly is the Storage of the rows' own bytes: no index, no padding.
var RowsOnly = Storage{TableBytes: func(dim int, counts [NumTiers]int64) int64 {
	var b int64
	for t, n := range counts {
		b += n * int64(Tier(t).RowBytes(dim))
	}
	return b
}}

// slack is how far the estimates of the stored size of n tables may be
// from the truth, by padding alone.
func (s Storage) slack(tables int) int64 { return NumTiers * s.Padding * int64(tables) }
