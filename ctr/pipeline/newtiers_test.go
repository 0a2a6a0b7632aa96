package pipeline

import (
	"testing"

	"shark/core"
	"shark/ctr/internal/ctrtest"
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
