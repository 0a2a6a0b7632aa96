package compress

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
)

// Counts drive the priorities: with counts, the rows clicked most keep the
// best precision.
func TestCountsPriorities(t *testing.T) {
	in, cf := openExample(t, 7)
	plan, err := NewPlan(in, DefaultSettings(), Env{Counts: cf})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range plan.Tables {
		if tp.PrioritySource != "counts" {
			t.Fatal("counts not used")
		}
		// Mean priority per tier must fall with precision.
		var sum, n [4]float64
		pr := make([]float64, tp.Stats.Len())
		tp.Stats.Scan(func(r int, s *core.RowStat) { pr[r] = float64(s.P) })
		for r, tier := range tp.Tiers() {
			sum[tier] += pr[r]
			n[tier]++
		}
		prev := math.Inf(1)
		for tier := 0; tier < 4; tier++ {
			if n[tier] == 0 {
				continue
			}
			m := sum[tier] / n[tier]
			if m > prev {
				t.Fatalf("%s: tier %v has mean priority %v above a more precise tier's %v", tp.Name, core.Tier(tier), m, prev)
			}
			prev = m
		}
	}
	// Missing counts for a table: a clear error.
	bad := &formats.File{Tensors: cf.Tensors[:1]}
	if _, err := NewPlan(in, DefaultSettings(), Env{Counts: bad}); err == nil || !strings.Contains(err.Error(), ".neg") {
		t.Fatalf("missing counts: %v", err)
	}
}

// openExample writes the example model and its counts and opens both.
func openExample(t *testing.T, seed uint64) (model *Input, counts *formats.File) {
	t.Helper()
	mp, cp, err := ExampleFiles(t.TempDir(), seed)
	if err != nil {
		t.Fatal(err)
	}
	model, err = Open(mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { model.Close() })
	c, err := Open(cp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return model, c.File
}

// Priorities kept in a temporary file (tables that spill their stats) are,
// bit for bit, those kept in memory, and bad counts fail the same way.
func TestStreamedCountsPriorities(t *testing.T) {
	in, cf := openExample(t, 8)
	priorities := func(spill int, c *formats.File) ([][]float32, error) {
		plan, err := NewPlan(in, DefaultSettings(), Env{Counts: c, SpillRows: spill})
		if err != nil {
			return nil, err
		}
		defer plan.Close()
		var out [][]float32
		for _, tp := range plan.Tables {
			pr := make([]float32, tp.Stats.Len())
			tp.Stats.Scan(func(r int, s *core.RowStat) { pr[r] = s.P })
			out = append(out, pr)
		}
		return out, nil
	}
	whole, err := priorities(0, cf)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := priorities(1, cf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range whole {
		for r := range whole[i] {
			if math.Float32bits(whole[i][r]) != math.Float32bits(streamed[i][r]) {
				t.Fatalf("table %d row %d: whole %v, streamed %v", i, r, whole[i][r], streamed[i][r])
			}
		}
	}
	// A negative count, in the last period of one table's .neg.
	var bad formats.File
	for _, tn := range cf.Tensors {
		tn := tn
		if strings.HasSuffix(tn.Name, ".neg") && len(bad.Tensors) < 4 {
			rc, err := tn.Open()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			vals := formats.DecodeFloat64(nil, tn.DType, raw)
			vals[len(vals)-1] = -1
			b := make([]byte, 8*len(vals))
			for i, v := range vals {
				binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
			}
			tn = formats.NewTensorAt(tn.Name, formats.F64, tn.Shape, int64(len(b)), bytes.NewReader(b), 0)
		}
		bad.Tensors = append(bad.Tensors, tn)
	}
	_, errWhole := priorities(0, &bad)
	_, errStream := priorities(1, &bad)
	if errWhole == nil || errStream == nil || errWhole.Error() != errStream.Error() {
		t.Fatalf("bad counts: whole %v, streamed %v", errWhole, errStream)
	}
}
