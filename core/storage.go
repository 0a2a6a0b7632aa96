package core

// Storage is how a container lays out a mixed-precision table: budgets are
// met in its bytes (index and padding included), so that a budget holds for
// the file as written. The method knows no container; the caller passes
// the one it writes (sharkfile.Storage for .shark files).
type Storage struct {
	// TableBytes is the stored size of a table of dim-wide rows with
	// counts[t] rows in tier t, block parameters aside.
	TableBytes func(dim int, counts [NumTiers]int64) int64
	// WideBytes is TableBytes in the layout of a table that uses a tier
	// after int4, whatever the counts (a container may index such tables
	// at more bytes a row). Nil: TableBytes. The solver charges it while
	// such a tier is allowed, a fixed cost of allowing it, so that the
	// size only falls as rows move to smaller tiers.
	WideBytes func(dim int, counts [NumTiers]int64) int64
	// ParamsBytes is the stored size of a table's block parameters: rows
	// rows in blocks of block rows, each block holding a scale and a bias
	// (4 bytes) for each of tiers block tiers. Nil: 4*blocks*tiers, no
	// padding.
	ParamsBytes func(rows int64, block, tiers int) int64
	// Block is the rows per block of the block tiers (0: DefaultBlock).
	Block int
	// Padding bounds what the layout adds to each tier's rows beyond a part
	// that depends on the row count alone: the solver's estimates allow
	// for that much either way.
	Padding int64
}

// DefaultBlock is the rows per block of the block tiers unless a rule
// says otherwise (--block): 64 rows share an fp16 scale and bias, so an
// int4-block row of dim 8 costs 4 bytes and 1/16 of a byte where an int4
// row costs 8.
const DefaultBlock = 64

// Blocks is the number of blocks of block rows (at least 1) in rows rows.
func Blocks(rows int64, block int) int64 {
	b := int64(max(block, 1))
	return (rows + b - 1) / b
}

// BlockRows is the storage's rows per block.
func (s Storage) BlockRows() int {
	if s.Block > 0 {
		return s.Block
	}
	return DefaultBlock
}

// paramsBytes is the stored size of the parameters of tiers block tiers.
func (s Storage) paramsBytes(rows int64, tiers int) int64 {
	if tiers == 0 {
		return 0
	}
	if s.ParamsBytes != nil {
		return s.ParamsBytes(rows, s.BlockRows(), tiers)
	}
	return 4 * Blocks(rows, s.BlockRows()) * int64(tiers)
}

// Bytes is the stored size of a table with counts[t] rows in tier t: its
// rows and index (TableBytes) and the parameters of the block tiers it
// uses.
func (s Storage) Bytes(dim int, counts [NumTiers]int64) int64 {
	var rows int64
	used := 0
	for t, n := range counts {
		rows += n
		if n > 0 && Tier(t).Block() {
			used++
		}
	}
	return s.TableBytes(dim, counts) + s.paramsBytes(rows, used)
}

// wideBytes is the stored size of a table in the layout of the tiers after
// int4.
func (s Storage) wideBytes(dim int, counts [NumTiers]int64) int64 {
	if s.WideBytes != nil {
		return s.WideBytes(dim, counts)
	}
	return s.TableBytes(dim, counts)
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
