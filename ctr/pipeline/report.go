package pipeline

import (
	"fmt"
	"strings"
)

// Report is the run in Markdown: the model and data files' names, the
// budget and share of fields kept as given.
func (r *Result) Report(modelName, dataName, budget string, frac float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# SHARK compression of %s\n\n", modelName)
	fmt.Fprintf(&b, "Data: `%s`. Kept %.0f%% of the fields, budget %s of the kept tables' fp32 bytes.\n\n", dataName, 100*frac, budget)
	fmt.Fprintf(&b, "| | before | after |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| held-out AUC | %.4f | %.4f |\n| held-out logloss | %.4f | %.4f |\n", r.AUCBefore, r.AUCAfter, r.LogLossBefore, r.LogLossAfter)
	fmt.Fprintf(&b, "| embedding bytes | %d | %d (%.1f%% less) |\n\n", r.EmbeddingBytesFP32, r.EmbeddingBytesAfter, 100*(1-float64(r.EmbeddingBytesAfter)/float64(r.EmbeddingBytesFP32)))
	fmt.Fprintf(&b, "AUC after pruning, before quantization: %.4f.\n\n", r.AUCAfterPrune)
	fmt.Fprintf(&b, "Kept: %s\n\nDropped: %s\n\n", strings.Join(r.KeptFields, ", "), strings.Join(r.DroppedFields, ", "))
	fmt.Fprintf(&b, "| table | fp32 | fp16 | int8 | int4 |\n|---|---|---|---|---|\n")
	for _, c := range r.Tiers {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", c.Field, c.FP32, c.FP16, c.INT8, c.INT4)
	}
	if s := r.Search; s != nil {
		fmt.Fprintf(&b, "\n## Budget search\n\n%s.\n\n| probe | budget | stored bytes | validation AUC | drop | |\n|---|---|---|---|---|---|\n", s.Verdict())
		for i, p := range s.Probes {
			mark := "over"
			if p.Within {
				mark = "within"
			}
			fmt.Fprintf(&b, "| %d | %.2f%% | %d | %.5f | %+.5f | %s |\n", i+1, 100*p.Budget, p.Bytes, p.AUC, p.Drop, mark)
		}
	}
	return b.String()
}
