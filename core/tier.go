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
	NumTiers = 4
)

var tierNames = [NumTiers]string{"fp32", "fp16", "int8", "int4"}

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
	return 0, fmt.Errorf("%w: unknown tier %q (want fp32, fp16, int8 or int4)", ErrInvalid, s)
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
	}
	panic("core: invalid tier") // programming error: tiers come from this package
}

// rowBytesAll is RowBytes of every tier, without its divisions: the
// solver's inner loop asks for all four once per row and pass.
func rowBytesAll(dim int) [NumTiers]int {
	return [NumTiers]int{FP32: 4 * dim, FP16: 2 * dim, INT8: dim + 4, INT4: (dim+1)>>1 + 4}
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
