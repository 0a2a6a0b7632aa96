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

// narrowTiers is the number of tiers of a version-1 table (fp32, fp16,
// int8, int4): 2-bit codes and four directory counts. A table using a
// later tier is wide: core.NumTiers of each, 4-bit codes.
const narrowTiers = 4

// codeBits is the width of a tier code in a table of nt tiers.
func codeBits(nt int) int {
	if nt == narrowTiers {
		return 2
	}
	return 4
}

// CodesBytes is the size of a version-1 table's packed 2-bit tier codes.
func CodesBytes(rows int64) int64 { return codesBytes(rows, narrowTiers) }

// DirBytes is the size of a version-1 table's rank directory.
func DirBytes(rows int64) int64 { return dirBytes(rows, narrowTiers) }

func codesBytes(rows int64, nt int) int64 {
	per := int64(8 / codeBits(nt))
	return (rows + per - 1) / per
}

func dirBytes(rows int64, nt int) int64 {
	return 4 * int64(nt) * max(0, (rows+DirEvery-1)/DirEvery-1)
}

// IndexBytes is the stored size of a version-1 table's codes and directory.
func IndexBytes(rows int64) int64 { return indexBytes(rows, narrowTiers) }

func indexBytes(rows int64, nt int) int64 {
	return AlignUp(codesBytes(rows, nt)) + AlignUp(dirBytes(rows, nt))
}

// Storage is how a .shark file stores a table, for the budget solver.
var Storage = core.Storage{TableBytes: TableBytes, WideBytes: WideTableBytes, ParamsBytes: ParamsBytes, Padding: Align}

// tiersOf is the number of tiers of the layout a table of these counts is
// stored in: narrowTiers unless a later tier has rows.
func tiersOf(counts []int64) int {
	for _, n := range counts[min(narrowTiers, len(counts)):] {
		if n > 0 {
			return core.NumTiers
		}
	}
	return narrowTiers
}

// TableBytes is the stored size of a mixed table of the given dim with
// counts[t] rows in tier t: index plus one padded block per tier (the
// block parameters aside: ParamsBytes).
func TableBytes(dim int, counts [core.NumTiers]int64) int64 {
	var rows int64
	b := int64(0)
	for t, n := range counts {
		rows += n
		b += AlignUp(n * int64(core.Tier(t).RowBytes(dim)))
	}
	return b + indexBytes(rows, tiersOf(counts[:]))
}

// WideTableBytes is TableBytes in the layout of a table that uses a tier
// after int4 (4-bit codes, core.NumTiers counts a directory entry),
// whatever its counts: what the solver charges while such tiers are
// allowed, so that the size falls as rows move to smaller tiers.
func WideTableBytes(dim int, counts [core.NumTiers]int64) int64 {
	var rows, b int64
	for t, n := range counts {
		rows += n
		b += AlignUp(n * int64(core.Tier(t).RowBytes(dim)))
	}
	return b + indexBytes(rows, core.NumTiers)
}

// ParamsBytes is the stored size of a table's block parameters: for each
// block of block rows, a fp16 scale and bias for each of tiers block
// tiers, padded.
func ParamsBytes(rows int64, block, tiers int) int64 {
	return AlignUp(paramsLen(rows, int64(block), tiers))
}

func paramsLen(rows, block int64, tiers int) int64 {
	if tiers == 0 {
		return 0
	}
	return 4 * int64(tiers) * core.Blocks(rows, int(block))
}
