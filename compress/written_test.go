package compress

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
)

// A plan by fixed fractions measures no errors; writing it measures each
// row's error in its tier, and the summary matches a plan that measured
// every tier (the sums' order differs, so to a few ulps): through a file
// (one pass over the rows) and through a stream (a pass per tier).
func TestFractionsMeasureAsTheyWrite(t *testing.T) {
	in := openNCF(t)
	s := DefaultSettings()
	s.Assign, s.Fractions = "fractions", [core.NumTiers]float64{0.1, 0.2, 0.3, 0.4}
	plan, err := NewPlan(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	if plan.errorsMeasured || plan.Tables[0].Summary.RMSE != 0 {
		t.Fatal("a plan by fractions measured errors")
	}
	// The reference: the same tiers, every error measured.
	ref := &Plan{In: in, Settings: s, errorsMeasured: true}
	for _, tb := range plan.Tables {
		tp, err := ref.measure(tb.Source, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref.Tables = append(ref.Tables, tp)
	}
	if err := ref.assign(); err != nil {
		t.Fatal(err)
	}
	for _, write := range []func() error{
		func() error { return plan.WriteFile(filepath.Join(t.TempDir(), "f.shark")) },
		func() error { var b bytes.Buffer; return plan.Write(&b) },
	} {
		for _, tb := range plan.Tables {
			tb.Summary.RMSE, tb.Summary.MaxAbsErr, tb.Summary.WeightedErr = 0, 0, 0
		}
		if err := write(); err != nil {
			t.Fatal(err)
		}
		for i, tb := range plan.Tables {
			got, want := tb.Summary, ref.Tables[i].Summary
			if got.Tiers != want.Tiers || !near(got.RMSE, want.RMSE) || !near(got.MaxAbsErr, want.MaxAbsErr) || !near(got.WeightedErr, want.WeightedErr) {
				t.Fatalf("%s: written %+v, measured %+v", tb.Name, got, want)
			}
		}
	}
}

// Writing a plan by fractions to a file, the writer reports each row's
// error as it encodes it (core.ErrorSink); the file is the one written
// when the rows are measured as they are read instead, byte for byte, for
// fractions of every default tier and for one tier alone.
func TestReportedErrorsAreMeasured(t *testing.T) {
	in := openNCF(t)
	defer func() { takeReported = true }()
	for _, f := range [][core.NumTiers]float64{{0.1, 0.2, 0.3, 0.4}, {core.INT8: 1}, {core.INT4: 1}, {core.FP16: 1}} {
		s := DefaultSettings()
		s.Assign, s.Fractions, s.Created = "fractions", f, 1700000000
		plan, err := NewPlan(in, s, Env{})
		if err != nil {
			t.Fatal(err)
		}
		var files [2][]byte
		var sums [2][]core.TableStats
		for i, reported := range []bool{true, false} {
			takeReported = reported
			path := filepath.Join(t.TempDir(), "f.shark")
			if err := plan.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			if files[i], err = os.ReadFile(path); err != nil {
				t.Fatal(err)
			}
			for _, tb := range plan.Tables {
				sums[i] = append(sums[i], tb.Summary)
			}
		}
		plan.Close()
		if !bytes.Equal(files[0], files[1]) {
			t.Fatalf("%v: the file differs with the errors reported", f)
		}
		for i := range sums[0] {
			a, b := sums[0][i], sums[1][i]
			if math.Float64bits(a.RMSE) != math.Float64bits(b.RMSE) || math.Float64bits(a.MaxAbsErr) != math.Float64bits(b.MaxAbsErr) ||
				math.Float64bits(a.WeightedErr) != math.Float64bits(b.WeightedErr) || a.RMSE == 0 {
				t.Fatalf("%v table %d: reported %+v, measured %+v", f, i, a, b)
			}
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }

// A compressed table's size is one number everywhere: the plan's stored
// bytes (what quantize prints and the budget holds) are the bytes inspect
// counts in the written file, padding included.
func TestStoredBytesAgree(t *testing.T) {
	dir := t.TempDir()
	model, _, err := ExampleFiles(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	plan, err := NewPlan(in, DefaultSettings(), Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	out := filepath.Join(dir, "m.shark")
	if err := plan.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	written, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer written.Close()
	inspected := map[string]int64{}
	for _, ts := range Summarize(written).Tensors {
		inspected[ts.Name] = ts.Bytes
	}
	for _, tb := range plan.Result().Tables {
		if inspected[tb.Name] != tb.BytesAfter {
			t.Errorf("%s: planned %d bytes, inspect counts %d", tb.Name, tb.BytesAfter, inspected[tb.Name])
		}
	}
}
