package core

import "testing"

func TestRowBytesAll(t *testing.T) {
	for dim := 0; dim < 5000; dim++ {
		all := rowBytesAll(dim)
		for tr := Tier(0); tr < NumTiers; tr++ {
			if all[tr] != tr.RowBytes(dim) {
				t.Fatalf("dim %d %v: %d, RowBytes %d", dim, tr, all[tr], tr.RowBytes(dim))
			}
		}
	}
}
