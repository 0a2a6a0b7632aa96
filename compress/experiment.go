package compress

import (
	"errors"
	"fmt"

	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/experiment"
	"shark/ctr/modelfile"
)

// ExperimentSettings are what a user chooses about the paper's
// experiments: the full method's settings, and how often to repeat.
type ExperimentSettings struct {
	Kind string // taylor, ablation or sweep
	// Keep is the share of the fields the full method keeps; Budget its
	// budget, a share of the kept tables' fp32 bytes, and BudgetText the
	// budget as the user wrote it, for the report.
	Keep       float64
	Budget     float64
	BudgetText string
	Repeats    int // shuffles per field for exact permutation
	Seeds      int // ablation: models trained with seeds 1..Seeds
}

// ExperimentReport is the folder an experiment writes its report to and
// the facts the report states (the command line, the rows, the inputs).
type ExperimentReport = experiment.Report

// ExperimentFiles are the files an experiment of kind writes to its folder.
func ExperimentFiles(kind string) []string { return experiment.ReportFiles(kind) }

// RunExperiment runs one of the paper's experiments on the loaded model
// and its data, the full method being CompressModel's under s (the seed
// the model's), and writes its report r.
func RunExperiment(l *modelfile.Loaded, data *modelfile.Data, s ExperimentSettings, r ExperimentReport, progress func(string, int64, int64)) error {
	m := l.Model
	ms := DefaultModelSettings()
	ms.KeepFraction, ms.Quantize.Budget = s.Keep, s.Budget
	base := ms.options(m)
	base.Repeats = s.Repeats
	if data.ValidRows.Kind == dataset.RowsValid {
		base.Validation = data.Valid // pruning's choices never come from the test file
	}
	switch s.Kind {
	case "taylor":
		e, err := experiment.RunTaylor(m, data.Eval, s.Repeats, m.Cfg.Seed)
		if err != nil {
			return err
		}
		return experiment.WriteTaylor(r, e)
	case "ablation":
		vs := experiment.Variants(s.Keep, s.Budget)
		outs, err := experiment.Ablation(m, data, base, vs, s.Seeds, progress)
		if err != nil {
			return err
		}
		return experiment.WriteAblation(r, vs, outs, s.Seeds, s.Keep, s.BudgetText)
	case "sweep":
		at := func(share float64) func(int64) core.Rule {
			q := ms.Quantize
			q.Budget = share
			return q.Rule
		}
		pts, err := experiment.Sweep(m, data.Train, data.Eval, base, []float64{1, 0.75, 0.5, 0.25}, []float64{0.3, 0.4, 0.5, 0.6, 0.8, 1.0}, at)
		if err != nil && !errors.Is(err, core.ErrBudget) {
			return err
		}
		return experiment.WriteSweep(r, pts)
	}
	return fmt.Errorf("%w: experiment %q (taylor, ablation or sweep)", core.ErrInvalid, s.Kind)
}
