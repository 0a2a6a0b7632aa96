package pipeline

import (
	"bytes"
	"reflect"
	"testing"

	"shark/core"
	"shark/ctr/internal/ctrtest"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/formats/sharkfile"
)

// With every tier allowed, a budget below what the default tiers can
// reach (int4 throughout) is met in the block tiers: the result names
// their rows per field, and its bytes are the tables' stored bytes, block
// parameters counted (blocks of Options.Block rows).
func TestCompressEveryTier(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 6000, 8)
	m, train, valid := ctrtest.Trained(t, ds, 1)
	rule := func(fp32 int64) core.Rule {
		return core.Rule{By: core.ByBudget, Budget: int64(0.2 * float64(fp32)), Allowed: core.AllTiers()}
	}
	o := DefaultOptions(rule)
	o.KeepFraction, o.Block = 1, 32
	r, err := Compress(m, train, valid, o)
	if err != nil {
		t.Fatal(err)
	}
	st := sharkfile.Storage
	st.Block = 32
	var fp32, stored, blockRows int64
	for i, f := range m.Slots {
		mx := m.Emb[f].(*core.Mixed)
		ft := r.Tiers[i]
		c := [core.NumTiers]int64{ft.FP32, ft.FP16, ft.INT8, ft.INT4, ft.INT2, ft.INT8B, ft.INT4B, ft.INT2B}
		if ft.Field != m.Fields[f] || c != mx.TierCounts() {
			t.Fatalf("field %s: tiers %+v, table %v", m.Fields[f], ft, mx.TierCounts())
		}
		if p := mx.Params(); p != nil && p.Block != 32 {
			t.Fatalf("field %s: blocks of %d rows", m.Fields[f], p.Block)
		}
		fp32 += int64(mx.R * mx.D * 4)
		stored += st.Bytes(mx.D, c)
		blockRows += c[core.INT8B] + c[core.INT4B] + c[core.INT2B]
	}
	if stored != r.EmbeddingBytesAfter || float64(stored) > 0.2*float64(fp32) || blockRows == 0 {
		t.Fatalf("stored %d (reported %d) of %d fp32, %d block-tier rows", stored, r.EmbeddingBytesAfter, fp32, blockRows)
	}
}

// With the block tiers allowed and no block size given, the budget search
// tries every one of DefaultBlocks (each below the fewest bytes found so
// far, unless its least budget is not below them) and keeps the block size
// and budget of the fewest stored bytes within the tolerance on the
// validation rows. The result, its search and every table stored, in
// memory and in the model file written, have that block size; given
// one (Options.Block), it alone is searched.
func TestBudgetSearchChoosesBlock(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 2000, 8)
	m, train, scored := ctrtest.Trained(t, ds, 1)
	tune, validation := train.Split(0.2, 7)
	o := DefaultOptions(func(fp32 int64) core.Rule {
		return core.Rule{By: core.ByBudget, Budget: fp32, Allowed: core.AllTiers()}
	})
	o.KeepFraction, o.MaxAUCDrop, o.Validation, o.PriorityEpochs = 1, 0.005, validation, m.Cfg.Epochs
	o.Resolution = 0.05 // few probes: each solves every set of tiers
	c := m.Clone()
	r, err := Compress(c, tune, scored, o)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Search
	tried, best := map[int]bool{}, Probe{}
	for _, p := range s.Probes {
		tried[p.Block] = true
		if p.Within && (best.Bytes == 0 || p.Bytes < best.Bytes) {
			best = p
		}
	}
	if len(tried) < 2 || !s.Met || s.Block != best.Block || s.Bytes != best.Bytes || r.Block != s.Block || r.EmbeddingBytesAfter != s.Bytes {
		t.Fatalf("blocks tried %v; chose block %d at %d bytes (result: block %d, %d bytes), the fewest within: %+v", tried, s.Block, s.Bytes, r.Block, r.EmbeddingBytesAfter, best)
	}
	checkStoredBlock(t, c, s.Block)
	t.Logf("chose blocks of %d rows of %v: %s", s.Block, tried, s.Verdict())
	reversed := *scored // the scored rows change the score reported, not one probe
	reversed.Labels = make([]float32, len(scored.Labels))
	for i, l := range scored.Labels {
		reversed.Labels[i] = 1 - l
	}
	other, err := Compress(m.Clone(), tune, &reversed, o)
	if err != nil || !reflect.DeepEqual(other.Search, s) {
		t.Fatalf("the scored rows changed the search (%v): %+v\nagainst %+v", err, other.Search, s)
	}
	o.Block = 32
	r, err = Compress(m.Clone(), tune, scored, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Search.Probes {
		if p.Block != 32 || r.Search.Block != 32 || r.Block != 32 {
			t.Fatalf("--block 32: probe %+v, search block %d, result block %d", p, r.Search.Block, r.Block)
		}
	}
}

// checkStoredBlock checks that every table of m holding block-tier rows
// has blocks of block rows, in memory and in the model file written.
func checkStoredBlock(t *testing.T, m *model.Model, block int) {
	t.Helper()
	var buf bytes.Buffer
	if err := modelfile.Write(&buf, m, nil, modelfile.Record{}); err != nil {
		t.Fatal(err)
	}
	rd, err := sharkfile.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range m.Slots {
		p := m.Emb[f].(*core.Mixed).Params()
		tb, err := rd.Table(modelfile.TableName(m.Fields[f]))
		if err != nil {
			t.Fatal(err)
		}
		if p == nil {
			continue
		}
		if n++; p.Block != block || tb.Block() != block {
			t.Fatalf("field %s: blocks of %d rows in memory, %d in the file, want %d", m.Fields[f], p.Block, tb.Block(), block)
		}
	}
	if n == 0 {
		t.Fatal("no table holds a block tier")
	}
}
