package formats

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tab := range []*crc32.Table{crc32.IEEETable, crc32.MakeTable(crc32.Castagnoli)} {
		poly := map[*crc32.Table]uint32{crc32.IEEETable: crc32.IEEE}[tab]
		if poly == 0 {
			poly = crc32.Castagnoli
		}
		for _, n := range []int{0, 1, 7, 64, 1000, 1 << 16} {
			for _, m := range []int{0, 1, 3, 255, 4096, 100000} {
				a, b := make([]byte, n), make([]byte, m)
				for i := range a {
					a[i] = byte(r.Uint32())
				}
				for i := range b {
					b[i] = byte(r.Uint32())
				}
				whole := crc32.Checksum(append(append([]byte{}, a...), b...), tab)
				if got := CRC32Combine(poly, crc32.Checksum(a, tab), crc32.Checksum(b, tab), int64(m)); got != whole {
					t.Fatalf("poly %x, %d+%d bytes: %08x, want %08x", poly, n, m, got, whole)
				}
			}
		}
	}
}
