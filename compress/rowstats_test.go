package compress

import (
	"math"
	"math/rand/v2"
	"testing"

	"shark/core"
)

func randomStats(n int) []core.RowStat {
	r := rand.New(rand.NewPCG(5, 6))
	out := make([]core.RowStat, n)
	for i := range out {
		s := &out[i]
		s.P = r.Float32() * 10
		for j := range s.SSE { // every lossy tier's, int2 and the block tiers' too
			s.SSE[j], s.MaxAbs[j] = r.Float32(), -r.Float32()
		}
	}
	out[0].SSE[2] = float32(math.Inf(1)) // a tier that cannot hold the row
	out[1].SSE[core.INT2B-1] = float32(math.Inf(1))
	return out
}

// A row's stats come back the same through the codec, through a spill
// file, and through the decoding big-endian hosts use, which this
// (little-endian) machine otherwise never runs.
func TestRowStatsOneCodec(t *testing.T) {
	want := randomStats(5000)
	b := AppendRowStats(nil, want)
	if len(b) != len(want)*RowStatBytes {
		t.Fatalf("%d bytes for %d rows", len(b), len(want))
	}
	got, err := ReadRowStats(b)
	if err != nil {
		t.Fatal(err)
	}
	decoded := make([]core.RowStat, len(want))
	decodeRowStats(decoded, b)
	fs, err := newFileStats()
	if err != nil {
		t.Fatal(err)
	}
	defer fs.remove()
	for _, s := range want {
		if err := fs.add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := fs.finish(); err != nil {
		t.Fatal(err)
	}
	spilled := make([]core.RowStat, len(want))
	if err := fs.ScanRange(0, fs.Len(), func(r int, s *core.RowStat) { spilled[r] = *s }); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] || decoded[i] != want[i] || spilled[i] != want[i] {
			t.Fatalf("row %d: %+v read, %+v decoded, %+v spilled, want %+v", i, got[i], decoded[i], spilled[i], want[i])
		}
	}
	if _, err := ReadRowStats(b[:len(b)-1]); err == nil {
		t.Fatal("a partial record was read")
	}
}
