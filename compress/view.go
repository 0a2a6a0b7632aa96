package compress

import "fmt"

// PlanRow is one table of a plan, or the total over the tables, as every
// face shows it: sizes and errors as text, formatted here only.
type PlanRow struct {
	Name   string           `json:"name"`
	Shape  string           `json:"shape,omitempty"` // "3706 × 32"
	FP32   string           `json:"fp32"`            // the size at fp32
	Stored string           `json:"stored"`          // the stored size, index and padding included
	Share  string           `json:"share"`           // stored as a share of fp32
	Tiers  map[string]int64 `json:"tiers"`
	RMSE   string           `json:"rmse,omitempty"`
	MaxAbs string           `json:"max_abs_err,omitempty"`
}

// Rows lists the result's tables for people, then the total ("all tables").
func (r Result) Rows() []PlanRow {
	var out []PlanRow
	var before, after int64
	total := map[string]int64{}
	for _, t := range r.Tables {
		before += t.BytesBefore
		after += t.BytesAfter
		for k, v := range t.Tiers {
			total[k] += v
		}
		out = append(out, PlanRow{Name: t.Name, Shape: ShapeText([]int64{int64(t.Rows), int64(t.Dim)}), FP32: Size(t.BytesBefore),
			Stored: Size(t.BytesAfter), Share: Percent(t.BytesAfter, t.BytesBefore), Tiers: t.Tiers,
			RMSE: fmt.Sprintf("%.3g", float64(t.RMSE)), MaxAbs: fmt.Sprintf("%.3g", float64(t.MaxAbsErr))})
	}
	return append(out, PlanRow{Name: "all tables", FP32: Size(before), Stored: Size(after), Share: Percent(after, before), Tiers: total})
}
