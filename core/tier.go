package core

import (
	"fmt"
	"strings"

	"shark/core/kernels"
)

// Tier is the storage precision of one row.
type Tier uint8

const (
	FP32 Tier = iota
	FP16
	INT8
	INT4
	// INT2 is FBGEMM's 2-bit rowwise row: ceil(dim/4) code bytes, then an
	// fp16 scale and bias (PyTorch's embedding_bag_2bit_prepack).
	INT2
	// The block tiers ("shared scale") store a row's codes only, in the
	// layout of the rowwise tier of the same width without its trailing
	// scale and bias: those belong to the row's block of consecutive rows
	// (BlockParams), since at the dims CTR models use they weigh as much as
	// the codes.
	INT8B
	INT4B
	INT2B
	NumTiers = 8
)

// DefaultTiers is how many tiers, from fp32 on, are allowed unless a rule
// names others: fp32, fp16, int8 and int4, the tiers a version-1 file
// holds. The later ones are opt-in (--tiers).
const DefaultTiers = 4

var tierNames = [NumTiers]string{"fp32", "fp16", "int8", "int4", "int2", "int8-block", "int4-block", "int2-block"}

// Bits is the code width of a quantized tier (8, 4 or 2), 0 for fp32 and
// fp16.
func (t Tier) Bits() int {
	switch t {
	case INT8, INT8B:
		return 8
	case INT4, INT4B:
		return 4
	case INT2, INT2B:
		return 2
	}
	return 0
}

// Block reports whether t is a block (shared-scale) tier.
func (t Tier) Block() bool { return t >= INT8B && t < NumTiers }

// Rowwise is the rowwise tier of a block tier's code width (INT4 for
// INT4B), and t itself for the others.
func (t Tier) Rowwise() Tier {
	if t.Block() {
		return t - INT8B + INT8
	}
	return t
}

// BlockOf is the block tier of a quantized rowwise tier's code width
// (INT4B for INT4), and t itself for the others.
func (t Tier) BlockOf() Tier {
	if t >= INT8 && t <= INT2 {
		return t - INT8 + INT8B
	}
	return t
}

func (t Tier) String() string {
	if int(t) < NumTiers {
		return tierNames[t]
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// ParseTier accepts a tier name as printed by String.
func ParseTier(s string) (Tier, error) {
	for i, n := range tierNames {
		if strings.EqualFold(s, n) {
			return Tier(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown tier %q (want one of %s)", ErrInvalid, s, strings.Join(tierNames[:], ", "))
}

// RowBytes is the encoded size of one row of dim values in tier t.
func (t Tier) RowBytes(dim int) int {
	switch t {
	case FP32:
		return 4 * dim
	case FP16:
		return 2 * dim
	case INT8:
		return kernels.RowBytes(8, dim)
	case INT4:
		return kernels.RowBytes(4, dim)
	case INT2:
		return kernels.RowBytes(2, dim)
	case INT8B, INT4B, INT2B:
		return kernels.RowBytes(t.Bits(), dim) - 4
	}
	panic("core: invalid tier") // programming error: tiers come from this package
}

// rowBytesAll is RowBytes of every tier, without its divisions: the
// solver's inner loop asks for all of them once per row and pass.
func rowBytesAll(dim int) [NumTiers]int {
	return [NumTiers]int{FP32: 4 * dim, FP16: 2 * dim, INT8: dim + 4, INT4: (dim+1)>>1 + 4, INT2: (dim+3)>>2 + 4,
		INT8B: dim, INT4B: (dim + 1) >> 1, INT2B: (dim + 3) >> 2}
}

// Counts is the number of rows of each tier in tiers, which must all be
// below NumTiers (as Encode and the writers check before they count).
func Counts(tiers []Tier) [NumTiers]int {
	var n [NumTiers]int
	for _, t := range tiers {
		n[t]++
	}
	return n
}
