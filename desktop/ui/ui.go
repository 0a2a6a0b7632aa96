// Package ui is shark's desktop window, built by New from a fyne.App so
// that fyne's test driver can run it headless. Files are opened by one code
// path (Open) whether they come from the menu, a drop on the window or the
// command line; long work runs off the UI goroutine and updates widgets
// through fyne.Do.
package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"shark/compress"
	"shark/core"
	_ "shark/formats/all"
	"shark/internal/atomicfile"
)

// defaultWindowSize is the window's size when it opens.
var defaultWindowSize = fyne.NewSize(1000, 680)

// UI is the main window and its state.
type UI struct {
	App    fyne.App
	Window fyne.Window

	mu       sync.Mutex
	path     string
	in       *compress.Input
	summary  *compress.Summary
	plan     *compress.Plan
	cancel   context.CancelFunc
	job      int              // the latest job's number: an older one's end leaves the status to it
	result   *atomicfile.Temp // the last compressed file, until saved
	working  bool             // a job runs
	jobs     atomic.Int32     // jobs whose goroutine has not ended, done callback included
	dataPath string
	testPath string
	counts   *compress.Input // access counts that rank rows, if given
	unsafe   error           // why the save dialog cannot be trusted with a name, if it cannot

	// Widgets, exported to tests through methods.
	title    *widget.Label
	tensors  *widget.Table
	rows     [][5]string
	details  *fyne.Container
	meta     *widget.Accordion // the file's metadata, as the page lists it
	budget   *widget.Slider
	budgetL  *widget.Label
	minL     *widget.Label // the smallest budget the tables can take
	staleL   *widget.Label // heads a plan of the tiers before while the tiers chosen are measured
	note     *widget.Label // why a budget cannot be met, under the slider
	noInt4   *widget.Check
	tiers    *tierChoice // the tiers rows may take, and the rows per block
	planBox  *fyne.Container
	compress *widget.Button
	cancelB  *widget.Button
	save     *widget.Button
	export   *widget.Button
	progress *widget.ProgressBar
	busy     *widget.ProgressBarInfinite // for work of no known length (an export)
	status   *widget.Label
	pipeBox  *fyne.Container
	controls *fyne.Container // the right side, laid out again when a part changes size
	right    *fyne.Container
	recent   *fyne.Menu

	nameWidth float32 // the tensor list's name column, text only (fitColumns)

	pipeScore, pipeRun *widget.Button
	pipeKeep           *widget.Slider
	lastPipeline       *compress.ModelResult
}

// Tier colours: fp32 dark blue, fp16 blue, int8 orange, int4 yellow, int2
// purple, and each block tier a darker or lighter shade of its code
// width's colour: int8-block brown, int4-block olive, int2-block lilac (as
// on the page). They do not run dark to light, so Legend shows each by
// name, never "dark to light".
var tierColor = [core.NumTiers]color.NRGBA{
	core.FP32: {0x1f, 0x4e, 0x8c, 0xff}, core.FP16: {0x3a, 0x8d, 0xde, 0xff},
	core.INT8: {0xe0, 0x89, 0x1f, 0xff}, core.INT4: {0xf4, 0xcf, 0x5b, 0xff}, core.INT2: {0x8e, 0x44, 0xad, 0xff},
	core.INT8B: {0xa0, 0x52, 0x2d, 0xff}, core.INT4B: {0xb8, 0xa1, 0x2e, 0xff}, core.INT2B: {0xc3, 0x9b, 0xd3, 0xff},
}

// New builds the window. It does not show it.
func New(a fyne.App) *UI {
	u := &UI{App: a, Window: a.NewWindow("shark")}
	u.unsafe = guardFileScheme()
	u.title = widget.NewLabelWithStyle("Open a model file (.pt, .onnx, .npz, .npy, .safetensors, .shark), or drop one here", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	u.tensors = widget.NewTable(
		func() (int, int) { return len(u.rows) + 1, 5 },
		func() fyne.CanvasObject {
			l := widget.NewLabel("user_embedding_W_000")
			l.Truncation = fyne.TextTruncateEllipsis // the whole name shows when the row is selected
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row == 0 {
				l.SetText([]string{"Tensor", "Shape", "Type", "Bytes", "Role"}[id.Col])
				l.TextStyle = fyne.TextStyle{Bold: true}
				return
			}
			l.TextStyle = fyne.TextStyle{}
			if id.Col == 0 {
				l.SetText(elideMiddle(u.rows[id.Row-1][0], u.nameWidth))
				return
			}
			l.SetText(u.rows[id.Row-1][id.Col])
		})
	u.fitColumns()
	u.tensors.OnSelected = func(id widget.TableCellID) {
		if id.Row > 0 && id.Row-1 < len(u.rows) {
			u.showTable(u.rows[id.Row-1][0])
		}
	}
	u.details = container.NewVBox(widget.NewLabel("Select an embedding table to see its row norms and tiers."))
	u.budget = widget.NewSlider(1, 100)
	u.budget.Step = 0.1 // the smallest budget is reached to a tenth of a percent, as on the page
	u.budget.SetValue(30)
	u.budgetL = widget.NewLabel("Budget: 30% of the tables' fp32 bytes")
	u.minL = widget.NewLabel("")
	u.minL.Wrapping = fyne.TextWrapWord
	u.minL.Hide()
	u.staleL = widget.NewLabel("")
	u.staleL.Wrapping = fyne.TextWrapWord
	u.staleL.Importance = widget.WarningImportance
	u.note = widget.NewLabel("")
	u.note.Wrapping = fyne.TextWrapWord
	u.note.Importance = widget.DangerImportance
	u.note.Hide()
	u.budget.OnChanged = func(v float64) {
		u.budgetL.SetText("Budget: " + pctText(budgetPct(v)) + "% of the tables' fp32 bytes")
		u.settingsChanged()
	}
	u.budget.OnChangeEnded = func(float64) { u.Replan() }
	u.noInt4 = widget.NewCheck("fp32, fp16 and int8 only (no int4)", func(on bool) { u.noInt4Changed(on) })
	u.tiers = u.newTierChoice()
	u.planBox = container.NewVBox()
	u.compress = widget.NewButton("Compress", func() { u.Compress() })
	u.compress.Importance = widget.HighImportance
	u.cancelB = widget.NewButton("Cancel", func() { u.Cancel() })
	u.save = widget.NewButton("Save…", func() { u.saveDialog() })
	u.export = widget.NewButton("Export…", func() { u.exportDialog() })
	u.progress = widget.NewProgressBar()
	u.progress.Hide() // shown while a job runs: a bar at idle says nothing true
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.status = widget.NewLabel("")
	u.status.Wrapping = fyne.TextWrapWord
	u.pipeBox = container.NewVBox()
	for _, w := range []fyne.Disableable{u.compress, u.cancelB, u.save, u.export} {
		w.Disable()
	}
	u.controls = container.NewVBox(
		widget.NewLabelWithStyle("Compress", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		u.budgetL, u.budget, u.minL, u.note, u.tiers.box, u.noInt4, u.planBox,
		container.NewHBox(u.compress, u.cancelB, u.save, u.export),
		u.progress, u.busy, u.status, widget.NewSeparator(), u.pipeBox)
	u.meta = widget.NewAccordion()
	u.meta.Hide()
	u.right = container.NewVBox(u.meta, u.details, widget.NewSeparator(), u.controls)
	right := container.NewVScroll(u.right)
	split := container.NewHSplit(container.NewBorder(u.title, nil, nil, nil, u.tensors), right)
	split.Offset = 0.5
	u.Window.SetContent(split)
	// Fyne (2.7.1) tells an app nothing of the screen, so the window opens
	// at a size that fits a 1024 x 768 screen with its title bar and a
	// panel, the smallest the layout is made for; a larger screen's user
	// makes it larger.
	u.Window.Resize(defaultWindowSize)
	u.shortcuts()
	u.recent = fyne.NewMenu("Recent")
	u.Window.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("File",
		fyne.NewMenuItem("Open model…", func() { u.openDialog(u.Open) }),
		fyne.NewMenuItem("Open access counts…", func() { u.openDialog(u.OpenCounts) }),
		fyne.NewMenuItem("Open data for the SHARK pipeline…", func() { u.openDialog(u.OpenData) }),
		fyne.NewMenuItem("Open a test file for the pipeline…", func() { u.openDialog(u.OpenTest) }),
		&fyne.MenuItem{Label: "Open recent", ChildMenu: u.recent},
		fyne.NewMenuItem("Save compressed…", func() { u.saveDialog() }),
		fyne.NewMenuItem("Export…", func() { u.exportDialog() }),
	)))
	u.refreshRecent()
	u.Window.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) {
		if len(uris) > 0 {
			u.Open(uris[0].Path())
		}
	})
	u.Window.SetOnClosed(u.close)
	return u
}

func (u *UI) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cancel != nil {
		u.cancel()
	}
	if u.plan != nil {
		u.plan.Close()
	}
	if u.result != nil {
		u.result.Remove()
	}
	if u.in != nil {
		u.in.Close()
	}
}

// ShowError puts err in a dialog.
func (u *UI) ShowError(err error) { dialog.ShowError(err, u.Window) }

// Open opens a model file; every way of opening comes here.
func (u *UI) Open(path string) {
	in, err := compress.Open(path)
	if err != nil {
		u.ShowError(fmt.Errorf("could not open %s: %w", filepath.Base(path), err))
		return
	}
	u.close()
	sum := compress.Summarize(in)
	u.mu.Lock()
	u.path, u.in, u.summary, u.plan, u.result = path, in, sum, nil, nil
	u.mu.Unlock()
	u.rememberRecent(path)
	u.title.SetText(fmt.Sprintf("%s — %s", sum.Name, strings.ReplaceAll(sum.Facts, " · ", ", ")))
	u.rows = u.rows[:0]
	for _, t := range sum.Tensors {
		// The role alone: a table's rows per tier, eight tiers by name,
		// would run out of the list at 1024 px; its details say them.
		u.rows = append(u.rows, [5]string{t.Name, t.ShapeText, t.DType, t.Size, listRole(in, t)})
	}
	u.fitColumns()
	u.tensors.Refresh()
	u.showMeta(sum.Meta)
	u.setDetails([]fyne.CanvasObject{widget.NewLabel("Select an embedding table to see its row norms and tiers.")})
	u.save.Disable()
	u.export.Disable()
	u.compress.Disable()
	u.planBox.Objects = nil
	u.planBox.Refresh()
	u.budget.Min = 1
	u.budget.Refresh()
	u.minL.Hide()
	u.setNote("")
	if hasCompressed(sum) {
		u.export.Enable()
		u.status.SetText("A compressed file: export it to .pt, .npz, .safetensors or .onnx, or give a data file for the pipeline.")
	}
	// The pipeline panel is laid out before the plan's job starts: that
	// job's progress reaches the widgets from its own goroutine under the
	// test driver, and a widget refreshed from two goroutines at once can
	// panic inside fyne.
	u.refreshPipeline()
	u.Replan()
}

// Summary is the open file's summary, as every face shows it (for tests).
func (u *UI) Summary() *compress.Summary { return u.summary }

// Rows is the tensor list as shown (for tests).
func (u *UI) Rows() [][5]string { return u.rows }

// Settings are the controls' compress.Settings.
func (u *UI) Settings() compress.Settings {
	s := compress.DefaultSettings()
	s.Budget = budgetPct(u.budget.Value) / 100
	u.tiers.apply(&s)
	return s
}

// work runs fn off the UI goroutine with progress and a cancel button.
// When it ends the status says how (ended), before done adds its own
// words; a job that a newer one replaced (work cancels it) runs done for
// its clean-up only: the status, the bar and the buttons are the newer
// job's.
func (u *UI) work(label string, fn func(ctx context.Context, progress func(stage string, done, total int64)) error, done func(error)) {
	ctx, cancel := context.WithCancel(context.Background())
	u.mu.Lock()
	if u.cancel != nil {
		u.cancel()
	}
	u.cancel = cancel
	u.job++
	job := u.job
	u.mu.Unlock()
	u.status.SetText(label)
	u.progress.SetValue(0)
	u.progress.Show()
	u.working = true
	u.cancelB.Enable()
	u.compress.Disable()
	u.jobs.Add(1)
	go func() {
		defer u.jobs.Add(-1)
		err := fn(ctx, func(stage string, d, t int64) {
			fyne.Do(func() {
				if !u.latest(job) {
					return // a replaced job writing on until it sees its cancel
				}
				if t > 0 {
					u.progress.SetValue(float64(d) / float64(t))
				}
				u.status.SetText(progressText(stage, d, t))
			})
		})
		if ctx.Err() != nil && err == nil {
			err = ctx.Err()
		}
		// Waited for, so that a job is over only when its results are
		// shown (the test driver runs this on this goroutine, beside the
		// test's own).
		fyne.DoAndWait(func() {
			if !u.latest(job) {
				done(errReplaced)
				return
			}
			u.cancelB.Disable()
			u.progress.Hide()
			u.working = false
			u.status.SetText(ended(label, err))
			done(err)
			u.idle()
		})
	}()
}

// errReplaced is the end of a job that a newer one cancelled: its done
// cleans up and leaves the status alone.
var errReplaced = fmt.Errorf("replaced by a newer job: %w", context.Canceled)

// latest reports whether job is the last one work started.
func (u *UI) latest(job int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.job == job
}

// ended says how the job of label ("Compressing…") ended: what failed and
// why, or that it was cancelled; never the label or a progress count,
// which would say it still runs.
func ended(label string, err error) string {
	what := strings.TrimSuffix(label, "…")
	switch {
	case err == nil:
		return what + ": done."
	case errors.Is(err, context.Canceled):
		return what + " cancelled."
	}
	return what + " failed: " + err.Error()
}

// idle sets what can be pressed when no job runs: Compress when the plan
// has tiers for the settings shown, Save when a result of them is kept.
func (u *UI) idle() {
	if u.working {
		return
	}
	if u.plan != nil && u.plan.Assigned() && samePlanSettings(u.plan.Settings, u.Settings()) && u.tiers.problem() == "" {
		u.compress.Enable() // the plan is of the settings shown (a refused budget leaves the one before)
	} else {
		u.compress.Disable()
	}
	if u.result != nil {
		u.save.Enable()
	} else {
		u.save.Disable()
	}
}

// settingsChanged drops what the settings made stale: a compressed result
// of the settings before (Save would keep it under the new ones).
func (u *UI) settingsChanged() {
	u.compress.Disable()
	if u.result != nil {
		u.setResult(nil)
		u.status.SetText("The settings changed: compress again to save a file made with them.")
	}
}

// setNote says, under the slider, why a budget cannot be met, or clears it.
func (u *UI) setNote(msg string) {
	u.note.SetText(msg)
	if msg == "" {
		u.note.Hide()
	} else {
		u.note.Show()
	}
	u.relayout()
}

// relayout lays the right side out again after a part of it was shown,
// hidden or replaced: a box does not follow its children's sizes alone.
func (u *UI) relayout() {
	if u.right != nil {
		u.controls.Refresh()
		u.right.Refresh()
	}
}

// Cancel stops the running work.
func (u *UI) Cancel() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cancel != nil {
		u.cancel()
	}
}

// progressText says a job's progress as every face counts rows: with
// thousands separators ("measure: 81,920 of 1,500,000 rows").
func progressText(stage string, done, total int64) string {
	return fmt.Sprintf("%s: %s of %s rows", stage, compress.Count(done), compress.Count(total))
}

// Replan predicts the size and error of every table at the current budget:
// it measures the tables once, and assigns tiers again on each change. A
// budget that cannot be met is said under the slider, whose lower end is
// the smallest that can.
func (u *UI) Replan() {
	if u.in == nil || !compressible(u.summary) {
		return
	}
	if msg := u.tiers.problem(); msg != "" {
		u.Cancel() // the job of the choice before: its plan is not of this one
		u.setNote(msg)
		u.compress.Disable()
		return
	}
	set := u.Settings()
	plan, in := u.plan, u.in
	old := plan
	if plan != nil && !plan.Covers(set) {
		plan = nil // the tiers chosen were not measured (or in other blocks): measure again
	}
	measuring := plan == nil
	label := "Assigning tiers…"
	if measuring {
		label = "Measuring every row in every tier…"
		u.markStale()
	}
	var fit compress.Fit
	u.work(label, func(ctx context.Context, progress func(string, int64, int64)) error {
		if plan == nil {
			env := compress.Env{SpillRows: compress.DefaultSpillRows, Context: ctx, Progress: progress}
			if u.counts != nil {
				env.Counts = u.counts.File
			}
			p, err := compress.Measure(in, set, env)
			if err != nil {
				return err
			}
			plan = p
		}
		var err error
		fit, err = plan.Fit(set)
		return err
	}, func(err error) {
		if err != nil {
			if measuring && plan != nil {
				plan.Close() // measured, then cancelled: kept by no one
			}
			if measuring && errors.Is(err, context.Canceled) && !errors.Is(err, errReplaced) {
				u.status.SetText("Measuring cancelled: move the budget to measure again.")
			}
			return
		}
		if u.in != in { // another file was opened meanwhile
			plan.Close()
			return
		}
		if old != nil && old != plan && u.plan == old {
			old.Close() // measured again for other tiers
		}
		u.plan = plan
		if msg := u.tiers.problem(); msg != "" {
			u.setNote(msg) // the tiers changed to none (or a bad block) meanwhile
			return
		}
		u.showMin(plan, fit)
		if fit.Refused != nil {
			u.planBox.Objects = []fyne.CanvasObject{widget.NewLabel("No prediction: the budget cannot be met.")}
			u.planBox.Refresh()
			u.relayout()
			u.setNote(fit.Refused.Error())
			u.status.SetText("")
			return
		}
		u.setNote("")
		u.showPlan(plan)
		u.status.SetText(strings.Join(append(plan.Warnings, "Ready to compress."), "\n"))
	})
}

// OpenCounts takes access counts (an .npz or .safetensors of <table>.pos
// and <table>.neg, as the CLI's --counts) that rank rows instead of their
// norms: the tables are measured again with them.
func (u *UI) OpenCounts(path string) {
	c, err := compress.Open(path)
	if err != nil {
		u.ShowError(fmt.Errorf("the counts file: %w", err))
		return
	}
	if u.counts != nil {
		u.counts.Close()
	}
	u.counts = c
	if u.plan != nil {
		u.plan.Close()
		u.plan = nil
	}
	u.settingsChanged()
	u.Replan()
}

// hasCompressed reports whether a file holds compressed tables.
func hasCompressed(s *compress.Summary) bool {
	for _, t := range s.Tensors {
		if t.Role == compress.RoleCompressed {
			return true
		}
	}
	return false
}

// compressible reports whether a file has tables to compress.
func compressible(s *compress.Summary) bool {
	for _, t := range s.Tensors {
		if t.Role == compress.RoleTable || t.Role == compress.RoleFP32Table {
			return true
		}
	}
	return false
}

// staleMark ends the smallest budget's text and heads the plan while the
// tiers chosen are measured: both are still those of the tiers before.
const staleMark = " (the tiers before: measuring…)"

// markStale says that the smallest budget and the plan shown are of the
// tiers chosen before, until the measuring ends and they are replaced.
func (u *UI) markStale() {
	if u.minL.Visible() && !strings.HasSuffix(u.minL.Text, staleMark) {
		u.minL.SetText(u.minL.Text + staleMark)
	}
	if len(u.planBox.Objects) > 0 && u.planBox.Objects[0] != u.staleL {
		u.staleL.SetText("Predicted for the tiers before; the tiers chosen are being measured.")
		u.planBox.Objects = append([]fyne.CanvasObject{u.staleL}, u.planBox.Objects...)
		u.planBox.Refresh()
		u.relayout()
	}
}

// showMin makes the smallest budget the slider's lower end, and says it.
func (u *UI) showMin(plan *compress.Plan, fit compress.Fit) {
	if !fit.MinKnown || plan.FP32Bytes() == 0 {
		u.minL.Hide() // none known for these settings: not the one before
		return
	}
	pct := smallestStep(fit.Min, plan.FP32Bytes())
	// The slider starts at the smallest budget, but keeps a refused one in
	// reach, where the note under it explains.
	u.budget.Min = math.Min(pct, u.budget.Value)
	u.budget.Refresh()
	u.minL.SetText("Smallest possible: " + pctText(pct) + "%")
	u.minL.Show()
	u.relayout()
}

// budgetPct is the slider's value to the tenth of a percent it steps by
// (Fyne's steps leave float noise): the share the CLI's --budget of the
// same text gives, so that the bytes are the CLI's.
func budgetPct(v float64) float64 { return math.Round(v*10) / 10 }

// pctText writes a budget in percent as typed: "7.8", "30".
func pctText(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// smallestStep is the smallest budget in the slider's steps of 0.1% whose
// bytes (the share of fp32 bytes cut to whole bytes, as compress counts a
// share) hold min, the smallest the tables can take.
func smallestStep(min, fp32 int64) float64 {
	bytes := func(pct float64) int64 { return int64(pct / 100 * float64(fp32)) }
	pct := math.Max(0.1, math.Ceil(float64(min)/float64(fp32)*1000)/10)
	if down := math.Round(pct*10-1) / 10; down >= 0.1 && bytes(down) >= min {
		pct = down
	}
	for bytes(pct) < min {
		pct = math.Round(pct*10+1) / 10
	}
	return pct
}

func (u *UI) showPlan(plan *compress.Plan) {
	// No fp32 column: the tensor list's Bytes says it, and at 1024 px the
	// names need the room.
	cols := &planColumns{n: 5, names: []string{"Table"}}
	grid := container.New(cols,
		bold("Table"), bold("Predicted"), bold("Share"), bold("Tiers"), bold("RMSE"))
	rows := plan.Result().Rows()
	var used [][core.NumTiers]int64
	for i, r := range rows {
		used = append(used, tierArray(r.Tiers))
		if i < len(rows)-1 {
			cols.names = append(cols.names, r.Name)
		}
		name := widget.NewLabel(r.Name)
		name.Truncation = fyne.TextTruncateEllipsis
		if i == len(rows)-1 {
			name = bold(r.Name) // the total
		}
		grid.Add(name)
		grid.Add(widget.NewLabel(r.Stored))
		grid.Add(widget.NewLabel(r.Share))
		grid.Add(container.NewCenter(tierBarOf(r.Tiers, 72)))
		grid.Add(widget.NewLabel(r.RMSE))
	}
	u.planBox.Objects = []fyne.CanvasObject{grid, Legend(used...)}
	u.planBox.Refresh()
	u.relayout()
}

// tierBarOf is TierBar of named counts, width pixels wide.
func tierBarOf(m map[string]int64, width float32) fyne.CanvasObject {
	return tierBar(tierArray(m), width)
}

// tierArray is named tier counts by tier.
func tierArray(m map[string]int64) [core.NumTiers]int64 {
	var c [core.NumTiers]int64
	for t := core.Tier(0); t < core.NumTiers; t++ {
		c[t] = m[t.String()]
	}
	return c
}

// Legend names the tiers' colours: the default tiers', and those of the
// later (opt-in) tiers that rows of counts take.
func Legend(counts ...[core.NumTiers]int64) fyne.CanvasObject {
	var rows []fyne.CanvasObject
	var objs []fyne.CanvasObject
	for t := core.Tier(0); t < core.NumTiers; t++ {
		if t >= core.DefaultTiers && !slices.ContainsFunc(counts, func(c [core.NumTiers]int64) bool { return c[t] > 0 }) {
			continue
		}
		if len(objs) == 2*legendRow { // eight tiers in one line run out of the pane at 1024 px
			rows, objs = append(rows, container.NewHBox(objs...)), nil
		}
		sw := canvas.NewRectangle(tierColor[t])
		sw.SetMinSize(fyne.NewSize(12, 12))
		objs = append(objs, container.NewCenter(sw), widget.NewLabel(t.String()))
	}
	if rows == nil {
		return container.NewHBox(objs...)
	}
	return container.NewVBox(append(rows, container.NewHBox(objs...))...)
}

// legendRow is the tiers a line of the legend names.
const legendRow = 4

func bold(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// Compress writes the compressed file to a temporary file beside the
// input (one pass over the tables, flat memory); Save puts it in place.
func (u *UI) Compress() {
	plan := u.plan
	if plan == nil || u.tiers.problem() != "" || !samePlanSettings(plan.Settings, u.Settings()) {
		return
	}
	var out *atomicfile.Temp
	u.work("Compressing…", func(ctx context.Context, progress func(string, int64, int64)) error {
		t, err := atomicfile.CreateTemp(filepath.Dir(u.path), "result.shark")
		if err != nil {
			return err
		}
		plan.SetProgress(ctx, progress)
		if err := plan.Write(t); err != nil {
			t.Remove()
			return err
		}
		if err := t.Finish(); err != nil {
			t.Remove()
			return err
		}
		if err := verifyResult(t); err != nil {
			t.Remove()
			return err
		}
		out = t
		return nil
	}, func(err error) {
		if err != nil {
			if out != nil {
				out.Remove() // written whole, but cancelled: its settings may be gone
			}
			if !errors.Is(err, context.Canceled) {
				u.ShowError(err)
			}
			return
		}
		u.setResult(out)
		size, _ := out.Size()
		u.progress.SetValue(1)
		u.status.SetText(fmt.Sprintf("Compressed: %s → %s. Save it to keep it.", compress.Size(u.in.File.Size), compress.Size(size)))
	})
}

// ErrResultCorrupt: a result read back from the disk does not verify, so
// Save does not offer it.
var ErrResultCorrupt = errors.New("the result written to the disk does not read back whole")

// verifyResult reads a finished result back from the disk as the .shark it
// must be, every checksum checked: only a file that verifies can replace
// one by Save.
func verifyResult(t *atomicfile.Temp) error {
	size, err := t.Size()
	if err != nil {
		return err
	}
	in, err := compress.OpenReaderAt(t.File, size, "result.shark")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrResultCorrupt, err)
	}
	defer in.Close()
	rd, ok := in.Shark()
	if !ok {
		return fmt.Errorf("%w: not a .shark file", ErrResultCorrupt)
	}
	if err := rd.Verify(); err != nil {
		return fmt.Errorf("%w: %w", ErrResultCorrupt, err)
	}
	return nil
}

// setResult keeps a new result (or none), removing the one it replaces.
func (u *UI) setResult(t *atomicfile.Temp) {
	u.mu.Lock()
	old := u.result
	u.result = t
	u.mu.Unlock()
	if old != nil {
		old.Remove()
	}
	if t != nil {
		u.save.Enable()
	} else {
		u.save.Disable()
	}
}

// ResultFile is where the last compressed file is until it is saved (for tests).
func (u *UI) ResultFile() string {
	if u.result == nil {
		return ""
	}
	return u.result.Name()
}

// inputs are the files open in the app, which no output may replace.
func (u *UI) inputs() []string {
	in := []string{u.path, u.dataPath, u.testPath}
	if u.counts != nil {
		in = append(in, u.counts.Path)
	}
	return in
}

// SaveTo puts the compressed file at path: renamed there when it can be,
// copied through a temporary file otherwise; a failure (disk full,
// permission denied) leaves every file as it was.
func (u *UI) SaveTo(path string) error {
	if u.result == nil {
		return errors.New("nothing compressed yet")
	}
	if err := u.result.SaveAs(path, u.inputs()...); err != nil {
		return err
	}
	u.status.SetText("Saved " + path)
	u.rememberRecent(path)
	return nil
}

func (u *UI) saveDialog() {
	if u.result == nil {
		return
	}
	if u.unsafe != nil {
		u.ShowError(u.unsafe)
		return
	}
	// The writer names the file and has written nothing (see savefile.go):
	// closing it leaves the disk as it was, and SaveTo checks and places.
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		if err := u.SaveTo(path); err != nil {
			u.ShowError(err)
		}
	}, u.Window)
	d.SetFileName(strings.TrimSuffix(filepath.Base(u.path), filepath.Ext(u.path)) + ".compressed.shark")
	u.beside(d)
	d.Show()
}

// ExportTo writes the open .shark file as npz, safetensors, pt or onnx (by
// the extension of path: .npz, .safetensors, .pt or .pth, .onnx; any other
// is ErrExportExtension, nothing written) in the given layout (none for
// onnx).
func (u *UI) ExportTo(path string, layout compress.Layout) error {
	return u.exportTo(context.Background(), path, layout)
}

func (u *UI) exportTo(ctx context.Context, path string, layout compress.Layout) error {
	if u.in == nil {
		return errors.New("export needs an open .shark file")
	}
	to, err := exportFormat(path)
	if err != nil {
		return err
	}
	return compress.ExportFileContext(ctx, u.in, to, layout, path, u.inputs()...)
}

// Export writes the export in the background, with progress and Cancel.
// The file at path, if there is one, is replaced only when the export is
// whole: a refusal, failure or cancel leaves it as it was.
func (u *UI) Export(path string, layout compress.Layout) {
	if _, err := exportFormat(path); err != nil {
		u.ShowError(err)
		return
	}
	if err := atomicfile.CheckOutput(path, u.inputs()...); err != nil {
		u.ShowError(err)
		return
	}
	u.work("Exporting to "+filepath.Base(path)+"…", func(ctx context.Context, _ func(string, int64, int64)) error {
		fyne.Do(func() { u.progress.Hide(); u.busy.Show() })
		defer fyne.Do(func() { u.busy.Hide() })
		return u.exportTo(ctx, path, layout)
	}, func(err error) {
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				u.ShowError(err)
			}
			return
		}
		u.status.SetText("Exported " + path)
	})
}

func (u *UI) exportDialog() {
	if u.in == nil || !hasCompressed(u.summary) {
		return
	}
	if u.unsafe != nil {
		u.ShowError(u.unsafe)
		return
	}
	layoutSel := widget.NewSelect([]string{string(compress.Dequantized), string(compress.Tiers), string(compress.Torch)}, nil)
	layoutSel.SetSelected(string(compress.Dequantized))
	dialog.ShowCustomConfirm("Export", "Choose file…", "Cancel", container.NewVBox(widget.NewLabel("Layout"), layoutSel, widget.NewLabel("The file name's extension picks the format: .pt, .npz, .safetensors, or .onnx (quantized lookups ONNX Runtime runs; no layout).")), func(ok bool) {
		if !ok {
			return
		}
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			path := w.URI().Path()
			w.Close()
			u.Export(path, compress.Layout(layoutSel.Selected))
		}, u.Window)
		d.SetFileName(strings.TrimSuffix(filepath.Base(u.path), ".shark") + "." + layoutSel.Selected + ".npz")
		u.beside(d)
		d.Show()
		u.checkNameBeforeSave(func(name string) error { _, err := exportFormat(name); return err })
	}, u.Window)
}

func (u *UI) openDialog(open func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		open(path)
	}, u.Window)
	d.Show()
}

// showTable says what a tensor is and why (the summary's words, as every
// face shows them: the Gather nodes reading a table, the tensor a tied one
// shares its storage with, an optimizer's state), and draws a table's
// row-norm histogram and, when compressed, its tiers and error.
func (u *UI) showTable(name string) {
	if u.in == nil {
		return
	}
	// The whole name, broken over lines: the list cuts its middle.
	objs := []fyne.CanvasObject{wrapped(name, fyne.TextStyle{Bold: true})}
	for _, ts := range u.summary.Tensors {
		if ts.Name == name {
			objs = append(objs, u.tensorFacts(ts)...)
		}
	}
	t, err := u.in.File.Tensor(name)
	if err != nil || (!t.IsTable(1) && t.Tiers == nil) {
		u.setDetails(objs)
		return
	}
	if t.Tiers != nil {
		objs = append(objs, TierBar(*t.Tiers), Legend(*t.Tiers)) // its colours by name: they do not run dark to light
	}
	if h, err := compress.Norms(u.in.File, name, 40); err == nil {
		objs = append(objs, widget.NewLabel(fmt.Sprintf("Row L2 norms (%d rows): %.3g to %.3g", h.Sample, h.Min, h.Max)), Histogram(h.Counts))
	}
	u.setDetails(objs)
}

// setDetails shows objs in the details pane and lays the right side out
// again, so that what is under it moves down rather than under it.
func (u *UI) setDetails(objs []fyne.CanvasObject) {
	u.details.Objects = objs
	u.details.Refresh()
	u.relayout()
}

// TierBar draws rows per tier as one stacked bar.
func TierBar(c [core.NumTiers]int64) fyne.CanvasObject { return tierBar(c, 400) }

func tierBar(c [core.NumTiers]int64, width float32) fyne.CanvasObject {
	var total int64
	for _, n := range c {
		total += n
	}
	var parts []fyne.CanvasObject
	for t, n := range c {
		if n == 0 {
			continue
		}
		r := canvas.NewRectangle(tierColor[t])
		r.SetMinSize(fyne.NewSize(float32(float64(width)*float64(n)/float64(max(1, total))), 16))
		parts = append(parts, r)
	}
	return container.New(&rowLayout{}, parts...)
}

// Histogram draws counts as bars, 140 pixels high.
func Histogram(counts []int64) fyne.CanvasObject {
	top := int64(1)
	for _, c := range counts {
		top = max(top, c)
	}
	var bars []fyne.CanvasObject
	for _, c := range counts {
		r := canvas.NewRectangle(tierColor[core.FP16])
		r.SetMinSize(fyne.NewSize(10, float32(math.Max(1, 140*float64(c)/float64(top)))))
		bars = append(bars, r)
	}
	return container.New(&rowLayout{bottom: true, gap: 1}, bars...)
}

// rowLayout places objects left to right at their minimum sizes, aligned at
// the bottom when asked (for bar charts).
type rowLayout struct {
	bottom bool
	gap    float32
}

func (l *rowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for _, o := range objs {
		m := o.MinSize()
		w += m.Width + l.gap
		h = max(h, m.Height)
	}
	return fyne.NewSize(w, h)
}

func (l *rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x := float32(0)
	for _, o := range objs {
		m := o.MinSize()
		y := float32(0)
		if l.bottom {
			y = size.Height - m.Height
		}
		o.Move(fyne.NewPos(x, y))
		o.Resize(m)
		x += m.Width + l.gap
	}
}

func (u *UI) rememberRecent(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	list := []string{abs}
	for _, p := range u.App.Preferences().StringList("recent") {
		if p != abs && len(list) < 8 {
			list = append(list, p)
		}
	}
	u.App.Preferences().SetStringList("recent", list)
	u.refreshRecent()
}

// Recent lists the remembered files, most recent first.
func (u *UI) Recent() []string { return u.App.Preferences().StringList("recent") }

func (u *UI) refreshRecent() {
	u.recent.Items = nil
	for _, p := range u.Recent() {
		p := p
		u.recent.Items = append(u.recent.Items, fyne.NewMenuItem(p, func() { u.Open(p) }))
	}
	u.recent.Refresh()
}
