package experiment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"shark/ctr/dataset"
	"shark/ctr/report"
	"shark/internal/atomicfile"
)

// ReportFiles are the files an experiment's report writes in its directory.
func ReportFiles(kind string) []string {
	charts := map[string][]string{"taylor": {"taylor-vs-exact.svg", "taylor-scores.svg"}, "ablation": {"ablation.svg", "ablation-drop.svg"}, "sweep": {"sweep.svg"}}
	return append([]string{"report.md", "results.json"}, charts[kind]...)
}

// reportWriter writes an experiment's report into its directory: the
// Markdown it builds, the charts beside it and the numbers behind them,
// each file whole or not at all, never over one of inputs.
type reportWriter struct {
	dir, cmd string
	inputs   []string
	rows     dataset.Rows // the held-out rows the scores came from
	md       strings.Builder
	err      error
}

// file writes one file of the report; the first error is kept.
func (w *reportWriter) file(name, content string) {
	if w.err != nil {
		return
	}
	f, err := atomicfile.Create(filepath.Join(w.dir, name), w.inputs...)
	if err != nil {
		w.err = err
		return
	}
	if _, err := f.WriteString(content); err != nil {
		f.Abort()
		w.err = err
		return
	}
	w.err = f.Commit()
}

// finish writes report.md and results.json: the results, and the rows
// they came from.
func (w *reportWriter) finish(results map[string]any) error {
	fmt.Fprintf(&w.md, "\nScores on %s.\n", w.rows.Text)
	w.file("report.md", w.md.String())
	results["rows"] = w.rows
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	w.file("results.json", string(b)+"\n")
	return w.err
}

// Report is where an experiment's report goes: a directory, the command
// that made it (quoted in the report), the rows it scored, and the inputs
// it must not replace.
type Report struct {
	Dir, Cmd string
	Rows     dataset.Rows
	Inputs   []string
}

func newReport(r Report) (*reportWriter, error) {
	return &reportWriter{dir: r.Dir, cmd: r.Cmd, rows: r.Rows, inputs: r.Inputs}, os.MkdirAll(r.Dir, 0o755)
}

// WriteTaylor writes the Taylor experiment's report.
func WriteTaylor(r Report, e *TaylorExperiment) error {
	w, err := newReport(r)
	if err != nil {
		return err
	}
	writeTaylor(w, e)
	return w.finish(map[string]any{"taylor": e})
}

// WriteAblation writes the ablation's report.
func WriteAblation(r Report, vs []Variant, outs []Outcome, seeds int, keep float64, budget string) error {
	w, err := newReport(r)
	if err != nil {
		return err
	}
	sum := Summarise(vs, outs)
	writeAblation(w, sum, seeds, keep, budget)
	return w.finish(map[string]any{"summary": sum, "runs": outs})
}

// WriteSweep writes the sweep's report.
func WriteSweep(r Report, pts []SweepPoint) error {
	w, err := newReport(r)
	if err != nil {
		return err
	}
	writeSweep(w, pts)
	return w.finish(map[string]any{"points": pts, "frontier": Frontier(pts)})
}

func writeTaylor(w *reportWriter, e *TaylorExperiment) {
	md, cmd := &w.md, w.cmd
	scatter := taylorScatter(e)
	w.file("taylor-vs-exact.svg", scatter.SVG())
	idx := make([]int, len(e.Fields))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return e.Taylor[idx[a]] > e.Taylor[idx[b]] })
	var names []string
	var vals []float64
	for _, i := range idx {
		names, vals = append(names, e.Fields[i]), append(vals, e.Taylor[i])
	}
	w.file("taylor-scores.svg", report.Bars("Taylor importance by field", "Q_i", names, vals))
	fmt.Fprintf(md, "# Taylor against exact permutation importance\n\nCommand: `%s`\n\n", cmd)
	fmt.Fprintf(md, "On %d rows: Spearman rank correlation **%.3f** over the %d fields that vary in the data (%.3f over all %d; constant fields score exactly 0 both ways). Taylor took %.3f s, exact permutation (%d repeats) %.3f s, **%.0fx** longer.\n\n",
		e.Rows, e.Spearman, e.Varying, e.SpearmanAll, len(e.Fields), e.TaylorSeconds, e.Repeats, e.ExactSeconds, e.ExactSeconds/e.TaylorSeconds)
	if scatter.Note != "" {
		fmt.Fprintf(md, "The scatter leaves out the %s\n\n", scatter.Note)
	}
	fmt.Fprintf(md, "![scatter](taylor-vs-exact.svg)\n\n![scores](taylor-scores.svg)\n\n| field | Taylor | exact (logloss increase) | exact (AUC drop) |\n|---|---|---|---|\n")
	for _, i := range idx {
		fmt.Fprintf(md, "| %s | %.6f | %.6f | %.6f |\n", e.Fields[i], e.Taylor[i], e.Exact[i], e.ExactAUCDrop[i])
	}
}

// taylorScatter plots each field's two importances. Fields scoring
// exactly 0 both ways (constant in the data) would pile into one blob at
// the origin: they are left out of the points and named in the note.
func taylorScatter(e *TaylorExperiment) report.Chart {
	var pts []report.Point
	var zero []string
	for i, f := range e.Fields {
		if e.Exact[i] == 0 && e.Taylor[i] == 0 {
			zero = append(zero, f)
			continue
		}
		pts = append(pts, report.Point{X: e.Exact[i], Y: e.Taylor[i], Label: f})
	}
	c := report.Chart{Title: "Taylor against exact permutation importance",
		XLabel: "exact: held-out logloss increase", YLabel: "Taylor Q_i", Series: []report.Series{{Name: "fields", Points: pts}}}
	if len(zero) > 0 {
		c.Note = fmt.Sprintf("%d fields with zero importance both ways: %s.", len(zero), listSome(zero, 8))
	}
	return c
}

// listSome joins the first n names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

func writeAblation(w *reportWriter, sum []Summary, seeds int, keep float64, budget string) {
	md, cmd := &w.md, w.cmd
	var series []report.Series
	for _, s := range sum {
		series = append(series, report.Series{Name: s.Variant, Points: []report.Point{{X: s.BytesMean / 1024, Y: s.AUCMean, Label: s.Variant}}})
	}
	w.file("ablation.svg", report.Chart{Title: "Ablation: held-out AUC against embedding size",
		XLabel: "embedding KiB (mean over seeds)", YLabel: "AUC (mean over seeds)", Series: series}.SVG())
	var names []string
	var drops []float64
	for _, s := range sum {
		names, drops = append(names, s.Variant), append(drops, s.DropMean)
	}
	w.file("ablation-drop.svg", report.Bars("AUC drop against the uncompressed model", "mean AUC drop", names, drops))
	fmt.Fprintf(md, "# Ablation\n\nCommand: `%s`\n\n%d seeds (a model trained and split per seed); full method keeps %.0f%% of the fields with a budget of %s of the kept tables' fp32 bytes.\n\n", cmd, seeds, 100*keep, budget)
	fmt.Fprintf(md, "![ablation](ablation.svg)\n\n![drop](ablation-drop.svg)\n\n| variant | what | AUC (mean ± std) | AUC drop mean [min, max] | logloss | embedding bytes | reduction |\n|---|---|---|---|---|---|---|\n")
	for _, s := range sum {
		fmt.Fprintf(md, "| %s | %s | %.4f ± %.4f | %.4f [%.4f, %.4f] | %.4f | %.0f | %.1f%% |\n", s.Variant, s.Description, s.AUCMean, s.AUCStd, s.DropMean, s.DropMin, s.DropMax, s.LogLossMean, s.BytesMean, 100*s.Reduction)
	}
}

func writeSweep(w *reportWriter, pts []SweepPoint) {
	md, cmd := &w.md, w.cmd
	byKeep := map[float64][]report.Point{}
	var keeps []float64
	for _, p := range pts {
		if _, ok := byKeep[p.Keep]; !ok {
			keeps = append(keeps, p.Keep)
		}
		label := "fp32"
		if p.Budget > 0 {
			label = fmt.Sprintf("%.0f%%", 100*p.Budget)
		}
		byKeep[p.Keep] = append(byKeep[p.Keep], report.Point{X: float64(p.EmbeddingBytes) / 1024, Y: p.AUC, Label: label})
	}
	var series []report.Series
	for _, k := range keeps {
		series = append(series, report.Series{Name: fmt.Sprintf("keep %.0f%% of fields", 100*k), Points: byKeep[k], Line: true})
	}
	front := Frontier(pts)
	var fpts []report.Point
	for _, p := range front {
		fpts = append(fpts, report.Point{X: float64(p.EmbeddingBytes) / 1024, Y: p.AUC})
	}
	series = append(series, report.Series{Name: "frontier (fewest bytes for the AUC)", Points: fpts, Line: true})
	w.file("sweep.svg", report.Chart{Title: "Held-out AUC against embedding size", XLabel: "embedding KiB", YLabel: "AUC", Series: series}.SVG())
	fmt.Fprintf(md, "# Sweep: AUC against bytes\n\nCommand: `%s`\n\n![sweep](sweep.svg)\n\n| keep | budget | AUC | logloss | embedding bytes | reduction |\n|---|---|---|---|---|---|\n", cmd)
	for _, p := range pts {
		b := "fp32"
		if p.Budget > 0 {
			b = fmt.Sprintf("%.0f%%", 100*p.Budget)
		}
		fmt.Fprintf(md, "| %.0f%% | %s | %.4f | %.4f | %d | %.1f%% |\n", 100*p.Keep, b, p.AUC, p.LogLoss, p.EmbeddingBytes, 100*(1-float64(p.EmbeddingBytes)/float64(p.BytesFP32)))
	}
	if len(pts) > 0 {
		fmt.Fprintf(md, "\nUncompressed held-out AUC: %.4f.\n", pts[0].AUCBefore)
	}
	writeFrontier(md, front)
}

// writeFrontier lists the frontier's points, smallest first: each the
// fewest bytes of the sweep for its AUC.
func writeFrontier(md *strings.Builder, front []SweepPoint) {
	if len(front) == 0 {
		return
	}
	fmt.Fprintf(md, "\n## Frontier\n\nThe settings no other beats with as few bytes and a higher AUC, smallest first (`frontier` in results.json):\n\n| embedding bytes | reduction | AUC | keep | budget |\n|---|---|---|---|---|\n")
	for _, p := range front {
		b := "fp32"
		if p.Budget > 0 {
			b = fmt.Sprintf("%.0f%%", 100*p.Budget)
		}
		fmt.Fprintf(md, "| %d | %.1f%% | %.4f | %.0f%% | %s |\n", p.EmbeddingBytes, 100*(1-float64(p.EmbeddingBytes)/float64(p.BytesFP32)), p.AUC, 100*p.Keep, b)
	}
}
