package compress

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
	_ "shark/formats/all"
	"shark/formats/formatstest"
	"shark/formats/npz"
	"shark/formats/sharkfile"
)

// realNCF is the real trained model; a clone without ../shared has none.
const realNCF = "../../shared/data/ncf-ml1m-mlp.npz"

// ncf is realNCF, or a stand-in of its structure (internal/standin) that
// TestMain writes when the real one is absent, so that the tests of plans,
// spills and exports run from a clone alone.
var ncf = realNCF

func TestMain(m *testing.M) {
	os.Exit(testsWithNCF(m))
}

// testsWithNCF runs the tests with ncf pointing at a model that exists.
func testsWithNCF(m *testing.M) int {
	return formatstest.RunWithNCF(m, realNCF, &ncf)
}

func openNCF(t testing.TB) *Input {
	t.Helper()
	in, err := Open(ncf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// The acceptance run of the issue: real trained tables at a 30% budget.
func TestNCFBudget30(t *testing.T) {
	in := openNCF(t)
	plan, err := NewPlan(in, DefaultSettings(), Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Tables) != 2 {
		t.Fatalf("selected %d tables", len(plan.Tables))
	}
	var buf bytes.Buffer
	if err := plan.Write(&buf); err != nil {
		t.Fatal(err)
	}
	rd, err := sharkfile.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(); err != nil {
		t.Fatal(err)
	}
	// The budget holds for the stored blocks themselves, index and padding included.
	var stored, fp32 int64
	for _, tbl := range rd.Tables() {
		e := tbl.Entry()
		for _, b := range append([]*sharkfile.Block{e.Codes, e.Dir}, e.Rows...) {
			stored += sharkfile.AlignUp(b.Len)
		}
		fp32 += int64(tbl.Rows() * tbl.Dim() * 4)
	}
	if stored > int64(0.30*float64(fp32)) {
		t.Fatalf("tables take %d bytes, over 30%% of %d", stored, fp32)
	}
	// Dense tensors bit-identical.
	for _, tn := range in.File.Tensors {
		if tn.IsTable(DefaultMinRows) {
			continue
		}
		rc, _ := tn.Open()
		want, _ := io.ReadAll(rc)
		_, dr, err := rd.Dense(tn.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(dr)
		if !bytes.Equal(got, want) {
			t.Fatalf("dense %s changed", tn.Name)
		}
	}
	// Reported error statistics equal a recomputation from the file.
	for _, tp := range plan.Tables {
		tbl, _ := rd.Table(tp.Name)
		orig, err := tp.Source.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float32, tbl.Dim())
		sse, maxAbs := 0.0, 0.0
		for r := 0; r < tbl.Rows(); r++ {
			tbl.Row(r, row)
			for j, v := range row {
				d := float64(v) - float64(orig[r*tbl.Dim()+j])
				sse += d * d
				maxAbs = math.Max(maxAbs, math.Abs(d))
			}
		}
		rmse := math.Sqrt(sse / float64(tbl.Rows()*tbl.Dim()))
		// Stats are kept as float32 between passes.
		if math.Abs(rmse-tp.Summary.RMSE) > 1e-6*rmse || float32(maxAbs) != float32(tp.Summary.MaxAbsErr) {
			t.Fatalf("%s: stats %v/%v, file %v/%v", tp.Name, tp.Summary.RMSE, tp.Summary.MaxAbsErr, rmse, maxAbs)
		}
		t.Logf("%s: %d x %d, %d -> %d bytes (%.1f%%), tiers %v, RMSE %.4g, max |err| %.4g", tp.Name, tp.Summary.Rows, tp.Summary.Dim,
			tp.Summary.BytesBefore, tp.Summary.BytesAfter, 100*float64(tp.Summary.BytesAfter)/float64(tp.Summary.BytesBefore), tp.Summary.Tiers, rmse, maxAbs)
	}
}

// A face measures once and keeps the measurement across budgets, one that
// cannot be met included: the error says the smallest budget, which is met.
func TestMeasureKeepsTheMeasurement(t *testing.T) {
	in := openNCF(t)
	s := DefaultSettings()
	s.Budget = 0.05
	p, err := Measure(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Reassign(s)
	var be *BudgetError
	if !errors.As(err, &be) || !errors.Is(err, core.ErrBudget) || p.Assigned() || be.Min <= be.Budget {
		t.Fatalf("%v (assigned %v)", err, p.Assigned())
	}
	if err := p.Write(io.Discard); err == nil {
		t.Fatal("an unassigned plan wrote")
	}
	s.BudgetBytes = be.Min
	if err := p.Reassign(s); err != nil {
		t.Fatalf("the smallest budget it named: %v", err)
	}
	if got := p.Result(); got.Tables[0].BytesAfter+got.Tables[1].BytesAfter > be.Min {
		t.Fatalf("over the budget: %+v", got)
	}
	s.BudgetBytes = be.Min - 1
	if err := p.Reassign(s); !errors.As(err, &be) || !p.Assigned() {
		t.Fatalf("a byte under: %v; the plan before is kept: %v", err, p.Assigned())
	}
}

// Row norms that are all alike cannot rank rows: the plan says so.
func TestFlatNormsWarn(t *testing.T) {
	const rows, dim = 2000, 8
	vals := make([]float32, rows*dim)
	for r := range rows {
		vals[r*dim+r%dim] = 1 // every row a unit vector
	}
	var buf bytes.Buffer
	w := npz.NewWriter(&buf, false)
	w.Write("emb", formats.F32, []int64{rows, dim}, bytes.NewReader(formats.EncodeFloat32(nil, vals)))
	w.Close()
	in, err := OpenReaderAt(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "unit.npz")
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	p, err := NewPlan(in, DefaultSettings(), Env{Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "cannot rank") || len(warned) < 2 {
		t.Fatalf("warnings %q, told %q", p.Warnings, warned)
	}
}

// The smallest budget a refusal names is that of the settings refused.
func TestBudgetErrorNamesTheRefusedSettings(t *testing.T) {
	p, err := NewPlan(openNCF(t), DefaultSettings(), Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	withInt4, _ := p.MinBytes()
	s := DefaultSettings()
	s.NoInt4, s.Budget = true, 0.25 // int8 rows of 32 values take 28% of fp32
	var be *BudgetError
	if err := p.Reassign(s); !errors.As(err, &be) || be.Min <= withInt4 {
		t.Fatalf("%v: the smallest without int4 %+v, with it %d", err, be, withInt4)
	}
}
