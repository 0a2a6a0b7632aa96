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
	fs, err := newFileStats(false)
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

// Rows measured in the default tiers only (every later tier +Inf) come back
// the same from the narrow stores, in memory and spilled, in 28 bytes a
// row; a row measured in a later tier is refused by them, not cut.
func TestNarrowStatsAreTheStats(t *testing.T) {
	want := randomStats(9000)
	inf := float32(math.Inf(1))
	for i := range want {
		for j := core.DefaultTiers - 1; j < core.NumTiers-1; j++ {
			want[i].SSE[j], want[i].MaxAbs[j] = inf, inf
		}
	}
	want[2].MaxAbs[1] = float32(math.Copysign(0.5, -1)) // Zeroes(int8) kept
	fs, err := newFileStats(true)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.remove()
	mem := &narrowStats{}
	for _, s := range want {
		if err := fs.add(s); err != nil {
			t.Fatal(err)
		}
		if err := mem.add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := fs.finish(); err != nil {
		t.Fatal(err)
	}
	if st, _ := fs.f.Stat(); st.Size() != int64(len(want)*NarrowStatBytes) {
		t.Fatalf("%d bytes spilled for %d rows, want %d a row", st.Size(), len(want), NarrowStatBytes)
	}
	for name, store := range map[string]core.RangeStats{"spilled": fs, "in memory": mem} {
		got := make([]core.RowStat, len(want))
		if err := store.ScanRange(0, store.Len(), func(r int, s *core.RowStat) { got[r] = *s }); err != nil {
			t.Fatal(err)
		}
		if err := store.ScanRange(4095, 4097, func(r int, s *core.RowStat) {
			if *s != want[r] {
				t.Fatalf("%s: row %d of a range: %+v, want %+v", name, r, *s, want[r])
			}
		}); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: row %d: %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	var b []byte // the records as big-endian hosts decode them
	for i := range want[:100] {
		n := core.NarrowOf(&want[i])
		b = appendNarrowStat(b, &n)
	}
	decoded := make([]core.NarrowStat, 100)
	decodeNarrowStats(decoded, b)
	for i := range decoded {
		if n := core.NarrowOf(&want[i]); decoded[i] != n {
			t.Fatalf("row %d: %+v decoded, want %+v", i, decoded[i], n)
		}
	}
	later := want[0]
	later.SSE[core.INT2-1] = 0.25
	if mem.add(later) == nil || fs.add(later) == nil {
		t.Fatal("a row measured in int2 was kept as the default tiers' stats")
	}
}

// A plan of the default tiers keeps its stats narrow; one allowing int2
// keeps every tier's.
func TestPlanStatsNarrowUnlessLaterTiers(t *testing.T) {
	in := openNCF(t)
	for _, tiers := range []string{"", "fp32,fp16,int8,int4,int2"} {
		s := DefaultSettings()
		s.Tiers = tiers
		plan, err := NewPlan(in, s, Env{})
		if err != nil {
			t.Fatal(err)
		}
		_, narrow := plan.Tables[0].Stats.(*narrowStats)
		if narrow != (tiers == "") {
			t.Fatalf("tiers %q: stats kept as %T", tiers, plan.Tables[0].Stats)
		}
		plan.Close()
	}
}
