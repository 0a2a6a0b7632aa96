package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"shark/compress"
	"shark/ctr/importance"
	"shark/ctr/modelfile"
	"shark/internal/atomicfile"
)

// OpenData takes a data file (Criteo TSV, CSV, libSVM, libFFM) for the SHARK
// pipeline on the open model: table importance, pruning, AUC before and after.
func (u *UI) OpenData(path string) {
	u.dataPath = path
	u.refreshPipeline()
}

// OpenTest takes a separate test file for the pipeline, as the CLI's
// --test: every one of its rows is held out, and every row of the data
// file is for training. Without one, the pipeline scores the rows of the
// data file the model held out, and refuses a file it was trained on whole.
func (u *UI) OpenTest(path string) {
	u.testPath = path
	u.refreshPipeline()
}

// pipelineState is what the pipeline panel needs: the model and its data.
type pipelineState struct {
	loaded *modelfile.Loaded
	data   *modelfile.Data
}

func (u *UI) loadPipeline() (*pipelineState, error) {
	if u.path == "" {
		return nil, errors.New("open a model first")
	}
	l, err := modelfile.Load(u.path, true)
	if err != nil {
		return nil, fmt.Errorf("the pipeline needs a model made by shark train: %w", err)
	}
	d, err := l.Data(u.dataPath, modelfile.DataOptions{Test: u.testPath, FineTune: true})
	if err != nil {
		l.Close()
		return nil, err
	}
	return &pipelineState{loaded: l, data: d}, nil
}

func (u *UI) refreshPipeline() {
	title := bold("SHARK pipeline")
	if u.dataPath == "" {
		hint := widget.NewLabel("File ▸ Open data… with a model trained by shark train: table importance, pruning, and AUC before and after.")
		hint.Wrapping = fyne.TextWrapWord
		u.pipeBox.Objects = []fyne.CanvasObject{title, hint}
		u.pipeBox.Refresh()
		u.relayout()
		return
	}
	keep := widget.NewSlider(1, 39)
	keepL := widget.NewLabel("")
	keep.OnChanged = func(v float64) { keepL.SetText(fmt.Sprintf("Keep %.0f tables", v)) }
	chart := container.NewVBox()
	result := widget.NewLabel("")
	result.Wrapping = fyne.TextWrapWord
	score := widget.NewButton("Score tables", nil)
	run := widget.NewButton("Prune and compress", nil)
	run.Disable()
	score.OnTapped = func() {
		var scores []float64
		var st *pipelineState
		u.work("Scoring tables (Taylor)…", func(ctx context.Context, _ func(string, int64, int64)) error {
			var err error
			if st, err = u.loadPipeline(); err != nil {
				return err
			}
			scores, err = importance.Taylor(st.loaded.Model, st.data.Eval)
			return err
		}, func(err error) {
			if err != nil {
				if st != nil {
					st.loaded.Close() // loaded, then cancelled
				}
				if !errors.Is(err, context.Canceled) {
					u.ShowError(err)
				}
				return
			}
			m := st.loaded.Model
			chart.Objects = []fyne.CanvasObject{ImportanceChart(m.Fields, m.Slots, scores)}
			chart.Refresh()
			keep.Max = float64(len(m.Slots))
			keep.SetValue(math2(len(m.Slots)))
			run.Enable()
			u.status.SetText(fmt.Sprintf("Scored %d tables on %s.", len(m.Slots), st.data.Rows.Text))
			st.loaded.Close()
		})
	}
	run.OnTapped = func() {
		var res *compress.ModelResult
		var out *atomicfile.Temp
		var rows string
		s := compress.DefaultModelSettings()
		s.Keep, s.Quantize.Budget = int(keep.Value), budgetPct(u.budget.Value)/100
		u.work("Pruning and compressing…", func(ctx context.Context, progress func(string, int64, int64)) error {
			st, err := u.loadPipeline()
			if err != nil {
				return err
			}
			defer st.loaded.Close()
			rows = st.data.Rows.Text
			res, out, err = u.saveModel(ctx, st, s, progress)
			return err
		}, func(err error) {
			if err != nil {
				if out != nil {
					out.Remove() // written whole, but cancelled
				}
				if !errors.Is(err, context.Canceled) {
					u.ShowError(err)
				}
				return
			}
			u.setResult(out)
			result.SetText(fmt.Sprintf("AUC %.4f → %.4f on %s; embedding bytes %s → %s (%.1f%% less); kept %d tables. Save to keep the model.",
				res.AUCBefore, res.AUCAfter, rows, compress.Size(res.EmbeddingBytesFP32), compress.Size(res.EmbeddingBytesAfter),
				100*(1-float64(res.EmbeddingBytesAfter)/float64(res.EmbeddingBytesFP32)), len(res.KeptFields)))
			u.lastPipeline = res
		})
	}
	files := "Data: " + filepath.Base(u.dataPath)
	if u.testPath != "" {
		files += "; test file: " + filepath.Base(u.testPath)
	}
	u.pipeBox.Objects = []fyne.CanvasObject{title, widget.NewLabel(files), score, chart, keepL, keep, run, result}
	u.pipeBox.Refresh()
	u.relayout()
	u.pipeScore, u.pipeRun, u.pipeKeep = score, run, keep
}

func math2(n int) float64 { return float64(max(1, n/2)) }

// ImportanceChart draws the tables' scores as horizontal bars, largest first.
func ImportanceChart(fields []string, slots []int, scores []float64) fyne.CanvasObject {
	idx := append([]int{}, slots...)
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	top := 0.0
	for _, f := range idx {
		top = max(top, scores[f])
	}
	rows := container.NewVBox()
	for _, f := range idx {
		w := float32(0)
		if top > 0 {
			w = float32(300 * scores[f] / top)
		}
		bar := canvas.NewRectangle(tierColor[1])
		bar.SetMinSize(fyne.NewSize(max(w, 1), 12))
		name := widget.NewLabel(fmt.Sprintf("%-4s %.4g", fields[f], scores[f]))
		rows.Add(container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(130, 20), name), nil, container.New(&rowLayout{}, bar)))
	}
	return rows
}

// saveModel compresses the model as the CLI's compress does (with a test
// file, pruning chooses on a share of the data file), into a temporary
// file beside the model until it is saved.
func (u *UI) saveModel(ctx context.Context, st *pipelineState, s compress.ModelSettings, progress func(string, int64, int64)) (*compress.ModelResult, *atomicfile.Temp, error) {
	t, err := atomicfile.CreateTemp(filepath.Dir(u.path), "model.shark")
	if err != nil {
		return nil, nil, err
	}
	in := compress.ModelInput{Model: st.loaded.Model, Encoding: st.loaded.Encoding, Data: st.data, Name: u.path, DataName: u.dataPath}
	res, err := compress.CompressModel(ctx, in, s, t, progress)
	if err == nil {
		err = t.Finish()
	}
	if err == nil {
		err = verifyResult(t)
	}
	if err != nil {
		t.Remove()
		return nil, nil, err
	}
	return res, t, nil
}
