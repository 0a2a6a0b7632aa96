package importance

import (
	"testing"

	"shark/ctr/internal/ctrtest"
	"shark/ctr/model"
)

// withField is ds with one more field, its id for each row given by id.
func withField(ds *model.Dataset, name string, vocab int, id func(s int) int32) *model.Dataset {
	out := &model.Dataset{Fields: append(append([]string{}, ds.Fields...), name), Vocab: append(append([]int{}, ds.Vocab...), vocab), Labels: ds.Labels}
	for s := 0; s < ds.Rows(); s++ {
		out.IDs = append(append(out.IDs, ds.Sample(s)...), id(s))
	}
	return out
}

// A field that spells the label out is a leak, and the planted signal of
// real fields, or a field unique to each row, is not.
func TestLeaks(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 4000, 6)
	train, valid := ds.Split(0.25, 1)
	if got := Leaks(train, valid); len(got) != 0 {
		t.Fatalf("leaks in clean data: %v", got)
	}
	ds = withField(ds, "row_id", ds.Rows()+2, func(s int) int32 { return int32(2 + s) })
	ds = withField(ds, "outcome", 4, func(s int) int32 { return 2 + int32(ds.Labels[s]) })
	train, valid = ds.Split(0.25, 1)
	got := Leaks(train, valid)
	if len(got) != 1 || got[0].Field != "outcome" || got[0].AUC != 1 {
		t.Fatalf("leaks %v, want outcome alone at AUC 1", got)
	}
}
