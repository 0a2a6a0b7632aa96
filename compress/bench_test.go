package compress

import "testing"

func TestParseCacheSize(t *testing.T) {
	for in, want := range map[string]int64{"32768K": 32 << 20, "32M": 32 << 20, "1024": 1024, "x": 0, "-5K": 0} {
		if got := parseCacheSize(in); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}

// The three working sets are sized against the cache as their names say,
// where the table is large enough; and say so where it is not.
func TestWorkingSets(t *testing.T) {
	const llc = 32 << 20
	big := &LookupResult{Rows: 8_000_000, Dim: 64, CompressedBytes: 8_000_000 * 64 * 4 * 3 / 10}
	for _, ws := range workingSets(big, llc) {
		if !ws.Holds {
			t.Errorf("%s: %d rows, %d and %d bytes do not hold", ws.Name, ws.Rows, ws.CompressedBytes, ws.FP32Bytes)
		}
	}
	small := &LookupResult{Rows: 1000, Dim: 64, CompressedBytes: 1000 * 64 * 4 * 3 / 10}
	ws := workingSets(small, llc)
	if !ws[0].Holds || ws[1].Holds || ws[2].Holds || ws[2].Rows != 1000 {
		t.Errorf("a small table: %+v", ws)
	}
}
