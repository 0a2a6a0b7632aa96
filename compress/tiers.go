package compress

import (
	"fmt"
	"os"

	"shark/core"
	"shark/internal/atomicfile"
)

// codesInMemory is the most rows whose tiers are kept in memory (4 bits a
// row: 32 MiB); a larger table keeps them in a temporary file.
var codesInMemory = 1 << 26 // a variable for tests

// tierCodes holds every row's tier, 4 bits a row (two rows a byte, the
// first in the low bits: every tier, the ones after int4 too): resolved
// once after the assignment, so that writing reads them instead of
// scanning the row stats and choosing again.
type tierCodes struct {
	n   int
	mem []byte
	f   *os.File
}

// codeBytes is the bytes of the tiers of n rows.
func codeBytes(n int) int { return (n + 1) / 2 }

func newTierCodes(n int) (*tierCodes, error) {
	c := &tierCodes{n: n}
	if n <= codesInMemory {
		c.mem = make([]byte, codeBytes(n))
		return c, nil
	}
	f, err := atomicfile.CreateScratch("shark-tiers-*")
	if err != nil {
		return nil, fmt.Errorf("spilling tiers: %w", err)
	}
	c.f = f
	return c, nil
}

// put stores the tiers of rows lo.. (lo a multiple of 4, so even); safe
// from several goroutines for different shards.
func (c *tierCodes) put(lo int, tiers []core.Tier) error {
	b := make([]byte, codeBytes(len(tiers)))
	for i, t := range tiers {
		b[i/2] |= byte(t&15) << (4 * (i % 2))
	}
	if c.mem != nil {
		copy(c.mem[lo/2:], b)
		return nil
	}
	if _, err := c.f.WriteAt(b, int64(lo/2)); err != nil {
		return fmt.Errorf("spilling tiers: %w", err)
	}
	return nil
}

// Scan gives every row's tier in row order.
func (c *tierCodes) Scan(fn func(r int, t core.Tier) error) error {
	const block = 1 << 16 // bytes read at once from a file
	var buf []byte
	for off := 0; off < codeBytes(c.n); off += block {
		b := c.mem
		if c.mem == nil {
			if buf == nil {
				buf = make([]byte, block)
			}
			b = buf[:min(block, codeBytes(c.n)-off)]
			if _, err := c.f.ReadAt(b, int64(off)); err != nil {
				return fmt.Errorf("reading spilled tiers: %w", err)
			}
		} else {
			b = b[off:min(len(b), off+block)]
		}
		for i, x := range b {
			for j := range 2 {
				r := 2*(off+i) + j
				if r >= c.n {
					return nil
				}
				if err := fn(r, core.Tier(x>>(4*j)&15)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// close removes the file, if any (it has no name).
func (c *tierCodes) close() error {
	if c.f != nil {
		return c.f.Close()
	}
	return nil
}

// get returns the tiers of rows [lo, hi).
func (c *tierCodes) get(lo, hi int, dst []core.Tier) ([]core.Tier, error) {
	first := lo / 2
	b := c.mem
	if b == nil {
		b = make([]byte, codeBytes(hi)-first)
		if _, err := c.f.ReadAt(b, int64(first)); err != nil {
			return nil, fmt.Errorf("reading spilled tiers: %w", err)
		}
	} else {
		b = b[first:]
	}
	dst = dst[:0]
	for r := lo; r < hi; r++ {
		dst = append(dst, core.Tier(b[r/2-first]>>(4*(r%2))&15))
	}
	return dst, nil
}
