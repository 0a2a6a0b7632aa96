package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fynetest "fyne.io/fyne/v2/test"

	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
	"shark/formats"
	"shark/formats/formatstest"
	"shark/formats/sharkfile"
)

// realNCF is the real trained model; a clone without ../shared has none.
const realNCF = "../../../shared/data/ncf-ml1m-mlp.npz"

// ncf is realNCF, or a stand-in of its structure (internal/standin) that
// TestMain writes when the real one is absent, so that the window's tests
// run from a clone alone.
var ncf = realNCF

func TestMain(m *testing.M) {
	os.Exit(formatstest.RunWithNCF(m, realNCF, &ncf))
}

// needRealNCF skips a test that checks the real model's values (the
// sizes and errors a view prints) when ../shared/data is absent.
func needRealNCF(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(realNCF); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("needs the real trained model %s (the view's markup holds its sizes and errors); ../shared/data is absent", realNCF)
	}
}

// waitFor polls cond for up to a minute; work runs off the UI goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, time.Minute, what, cond)
}

// settle waits until no job of u runs, its done callback included: in the
// test driver that callback runs on the job's goroutine, beside the test.
func settle(t *testing.T, u *UI) {
	t.Helper()
	waitFor(t, "the job's end", func() bool { return u.jobs.Load() == 0 })
}

func waitWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestOpenCompressSave(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(ncf)
	rows := u.Rows()
	if len(rows) != 10 {
		t.Fatalf("%d tensors listed", len(rows))
	}
	tables := map[string]string{}
	for _, r := range rows {
		if r[4] == "embedding table" {
			tables[r[0]] = r[1]
		}
	}
	if tables["user_embedding_W"] != "6,040 × 32" || tables["item_embedding_W"] != "3,706 × 32" || len(tables) != 2 {
		t.Fatalf("tables %v", tables)
	}
	waitFor(t, "the plan", func() bool { return u.plan != nil && !u.compress.Disabled() })
	// Set a budget of 25% with the slider, as a user would.
	u.budget.SetValue(25)
	u.budget.OnChangeEnded(25)
	waitFor(t, "the new plan", func() bool { return u.plan.Budget > 0 && u.plan.Settings.Budget == 0.25 && !u.compress.Disabled() })
	fynetest.Tap(u.compress)
	waitFor(t, "compression", func() bool { return u.ResultFile() != "" && !u.save.Disabled() })
	out := filepath.Join(t.TempDir(), "ncf.shark")
	if err := u.SaveTo(out); err != nil {
		t.Fatal(err)
	}
	f, err := sharkfile.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	var stored, fp32 int64
	for _, tb := range f.Tables() {
		for _, b := range tb.Entry().Rows {
			stored += b.Len
		}
		fp32 += int64(tb.Rows() * tb.Dim() * 4)
	}
	if stored > fp32/4 {
		t.Fatalf("rows take %d of %d fp32 bytes, over the 25%% budget", stored, fp32)
	}
	if got := u.Recent(); len(got) == 0 || filepath.Base(got[0]) != "ncf.shark" {
		t.Fatalf("recent files %v", got)
	}
	// The saved file opens in the app, with its tiers shown, and exports.
	u.Open(out)
	if u.Rows()[0][4][:10] != "compressed" {
		t.Fatalf("row %v", u.Rows()[0])
	}
	exp := filepath.Join(t.TempDir(), "back.npz")
	if err := u.ExportTo(exp, "dequantized"); err != nil {
		t.Fatal(err)
	}
	if ef, osf, err := formats.OpenFile(exp); err != nil || len(ef.Tensors) != 10 {
		t.Fatalf("export: %v", err)
	} else {
		osf.Close()
	}
}

func TestErrorsLeaveFilesAlone(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.npz")
	os.WriteFile(bad, []byte("PK\x03\x04 not really a zip"), 0o644)
	u.Open(bad) // shows a dialog; nothing opens
	if len(u.Rows()) != 0 {
		t.Fatal("a corrupt file was listed")
	}
	u.Open(ncf)
	waitFor(t, "the plan", func() bool { return !u.compress.Disabled() })
	fynetest.Tap(u.compress)
	waitFor(t, "compression", func() bool { return u.ResultFile() != "" })
	// Saving into a directory that cannot be written: an error, and the
	// file already there is untouched.
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	keep := filepath.Join(ro, "out.shark")
	os.WriteFile(keep, []byte("precious"), 0o644)
	os.Chmod(ro, 0o555)
	defer os.Chmod(ro, 0o755)
	if os.Geteuid() != 0 { // root ignores directory permissions
		if err := u.SaveTo(keep); err == nil {
			t.Fatal("saved into a read-only directory")
		}
		if b, _ := os.ReadFile(keep); string(b) != "precious" {
			t.Fatal("existing file changed")
		}
	}
	// Saving over the input is refused.
	if err := u.SaveTo(ncf); err == nil {
		t.Fatal("saved over the input")
	}
	// Cancel stops a compression.
	fynetest.Tap(u.compress)
	u.Cancel()
	waitFor(t, "the cancel", func() bool { return u.cancelB.Disabled() })
}

// The pipeline panel scores held-out rows only: with a model trained with
// a test file, the training file alone is refused, and with the test file
// the AUC before compressing is the model's AUC on it.
func TestPipelinePanel(t *testing.T) {
	dir := t.TempDir()
	all := filepath.Join(dir, "all.tsv")
	f, _ := os.Create(all)
	dataset.Synth(f, 6000, 8, 1)
	f.Close()
	b, _ := os.ReadFile(all)
	lines := bytes.SplitAfter(b, []byte("\n"))
	train, test := filepath.Join(dir, "train.tsv"), filepath.Join(dir, "test.tsv")
	os.WriteFile(train, bytes.Join(lines[:4500], nil), 0o644)
	os.WriteFile(test, bytes.Join(lines[4500:], nil), 0o644)
	cfg := model.DefaultConfig()
	cfg.Epochs = 2
	tr, err := pipeline.Train(pipeline.TrainOptions{Data: train, Test: test, Read: dataset.Options{Format: "criteo"}, MinCount: 2, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, "m.shark")
	if err := modelfile.Save(mpath, tr.Model, tr.Encoding, modelfile.Record{Training: tr.Training}); err != nil {
		t.Fatal(err)
	}
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	// Each step waits for the job it starts: the test driver runs a job's
	// widget updates on the job's goroutine, beside this one.
	u.Open(mpath)
	settle(t, u)
	u.OpenData(train)
	settle(t, u)
	fynetest.Tap(u.pipeScore)
	waitFor(t, "the refusal", func() bool { return strings.Contains(u.status.Text, "--test test.tsv") })
	settle(t, u)
	if !u.pipeRun.Disabled() {
		t.Fatal("the pipeline runs on training rows")
	}
	u.OpenTest(test)
	settle(t, u)
	fynetest.Tap(u.pipeScore)
	waitFor(t, "scores", func() bool { return !u.pipeRun.Disabled() })
	settle(t, u)
	u.pipeKeep.SetValue(5)
	fynetest.Tap(u.pipeRun)
	waitFor(t, "the pipeline", func() bool { return u.lastPipeline != nil })
	settle(t, u)
	r := u.lastPipeline
	if len(r.KeptFields) != 5 || r.EmbeddingBytesAfter >= r.EmbeddingBytesFP32 || r.AUCBefore != tr.Metrics.AUC {
		t.Fatalf("pipeline result %+v; the model's AUC on the test file is %v", r, tr.Metrics.AUC)
	}
	out := filepath.Join(dir, "small.shark")
	if err := u.SaveTo(out); err != nil {
		t.Fatal(err)
	}
	l, err := modelfile.Load(out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if on, ok := l.Training.Find(tr.Training.On[0].File); !ok || on.Split != 0 {
		t.Fatalf("the saved model does not record its training on all of train.tsv: %+v", l.Training)
	}
}

// Markup of the main views: what the window shows, widget by widget.
func TestMainViewsMarkup(t *testing.T) {
	needRealNCF(t)
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	w := u.Window
	w.Resize(w.Canvas().Size())
	fynetest.AssertRendersToMarkup(t, "empty.xml", w.Canvas())
	u.Open(ncf)
	waitFor(t, "the plan", func() bool { return !u.compress.Disabled() })
	u.tensors.Select(tableCell(10, 0))
	fynetest.AssertRendersToMarkup(t, "opened.xml", w.Canvas())
}
