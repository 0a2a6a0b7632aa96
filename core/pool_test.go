package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// PoolBagsF32 equals the plain loop of its doc comment for any batch,
// including empty bags, bags longer than a group and the mean.
func TestPoolBagsF32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, dim := range []int{1, 7, 64} {
		rows := 500
		table := make([]float32, rows*dim)
		for i := range table {
			table[i] = float32(r.NormFloat64())
		}
		for trial := 0; trial < 30; trial++ {
			nb := r.IntN(6)
			offsets := []int{0}
			var ids []int
			for b := 0; b < nb; b++ {
				k := r.IntN(3 * PoolGroup)
				if r.IntN(4) == 0 {
					k = 0
				}
				for range k {
					ids = append(ids, r.IntN(rows))
				}
				offsets = append(offsets, len(ids))
			}
			mean := trial%2 == 1
			got := make([]float32, nb*dim)
			for i := range got {
				got[i] = 99 // must be overwritten
			}
			if err := PoolBagsF32(table, dim, ids, offsets, mean, got); err != nil {
				t.Fatal(err)
			}
			// The prefetching loop adds the same rows in the same order.
			pf := make([]float32, nb*dim)
			for i := range pf {
				pf[i] = 99
			}
			if err := PoolBagsF32Prefetch(table, dim, ids, offsets, mean, pf); err != nil {
				t.Fatal(err)
			}
			for i := range pf {
				if math.Float32bits(pf[i]) != math.Float32bits(got[i]) {
					t.Fatalf("dim %d: prefetching loop value %d is %v, the touching loop's %v", dim, i, pf[i], got[i])
				}
			}
			for b := 0; b < nb; b++ {
				want := make([]float32, dim)
				bag := ids[offsets[b]:offsets[b+1]]
				for _, id := range bag {
					for i := range want {
						want[i] += table[id*dim+i]
					}
				}
				if mean && len(bag) > 0 {
					for i := range want {
						want[i] *= 1 / float32(len(bag))
					}
				}
				for i := range want {
					if d := math.Abs(float64(got[b*dim+i] - want[i])); d > 1e-4 {
						t.Fatalf("dim %d bag %d: got %v, want %v", dim, b, got[b*dim:(b+1)*dim], want)
					}
				}
			}
		}
	}
}

func TestPoolBagsBadInput(t *testing.T) {
	table := make([]float32, 10*4)
	out := make([]float32, 8)
	for name, c := range map[string]struct{ ids, offsets []int }{
		"out of range":    {[]int{10}, []int{0, 1}},
		"negative id":     {[]int{-1}, []int{0, 1}},
		"offsets short":   {[]int{1, 2}, []int{0, 1}},
		"offsets start":   {[]int{1, 2}, []int{1, 2}},
		"offsets falling": {[]int{1, 2, 3}, []int{0, 3, 2, 3}},
		"dst too small":   {[]int{1, 2, 3}, []int{0, 1, 2, 3}},
	} {
		if err := PoolBagsF32(table, 4, c.ids, c.offsets, false, out); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
		if err := PoolBagsF32Prefetch(table, 4, c.ids, c.offsets, false, out); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s (prefetching loop): got %v, want ErrInvalid", name, err)
		}
	}
	if err := PoolBagsF32(table, 4, nil, nil, false, nil); err != nil {
		t.Errorf("no bags: %v", err)
	}
}
