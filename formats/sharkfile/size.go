package sharkfile

import "shark/core"

// The sizes of a .shark table: every block is padded to Align, and a mixed
// table stores its tier codes and rank directory beside its rows. Storage
// hands them to the budget solver, so that a budget holds for the file.

// Align is the alignment of every data block in a .shark file.
const Align = 64

// DirEvery is the number of rows between two entries of a mixed table's rank
// directory. Each entry holds four uint32 counts (16 bytes), so the index
// costs 2 bits of tier code plus 16/256 bytes per row: 0.3125 bytes per row.
// The entry for row 0 (all zeros) is not stored, so a table of up to 256
// rows has an empty directory.
const DirEvery = 256

// AlignUp rounds n up to a multiple of Align.
func AlignUp(n int64) int64 { return (n + Align - 1) &^ (Align - 1) }

// CodesBytes is the size of a table's packed 2-bit tier codes.
func CodesBytes(rows int64) int64 { return (rows + 3) / 4 }

// DirBytes is the size of a table's rank directory.
func DirBytes(rows int64) int64 { return 16 * max(0, (rows+DirEvery-1)/DirEvery-1) }

// IndexBytes is the stored size of a table's codes and directory.
func IndexBytes(rows int64) int64 { return AlignUp(CodesBytes(rows)) + AlignUp(DirBytes(rows)) }

// Storage is how a .shark file stores a table, for the budget solver.
var Storage = core.Storage{TableBytes: TableBytes, Padding: Align}

// TableBytes is the stored size of a mixed table of the given dim with
// counts[t] rows in tier t: index plus one padded block per tier.
func TableBytes(dim int, counts [core.NumTiers]int64) int64 {
	var rows int64
	b := int64(0)
	for t, n := range counts {
		rows += n
		b += AlignUp(n * int64(core.Tier(t).RowBytes(dim)))
	}
	return b + IndexBytes(rows)
}
