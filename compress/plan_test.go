package compress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
	_ "shark/formats/all"
	"shark/formats/sharkfile"
	"shark/internal/numpytest"
)

const ncf = "../../shared/data/ncf-ml1m-mlp.npz"

func openNCF(t testing.TB) *Input {
	t.Helper()
	if _, err := os.Stat(ncf); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared data missing: %v", err)
		}
		t.Skipf("shared data not present: %v", err)
	}
	in, err := Open(ncf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// The int8 and int4 codes equal an independent NumPy implementation of
// FBGEMM's FloatToFusedNBitRowwiseQuantizedSBHalf reference, byte for byte.
func TestRowwiseCodesMatchNumPy(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const rows, dim = 4000, 37 // odd dim: int4 packs a half-filled last byte
	vals := make([]float32, rows*dim)
	for i := 0; i < rows; i++ {
		row := vals[i*dim : (i+1)*dim]
		scale := math.Ldexp(1, r.IntN(30)-20)
		off := r.NormFloat64() * scale * float64(r.IntN(3))
		for j := range row {
			row[j] = float32(off + r.NormFloat64()*scale)
		}
		switch i % 50 {
		case 0: // constant row: range 0
			for j := range row {
				row[j] = 0.3
			}
		case 1: // tiny range: the fp16 scale underflows
			for j := range row {
				row[j] = 1 + float32(j)*1e-9
			}
		case 2: // large values
			for j := range row {
				row[j] = float32(r.NormFloat64() * 3e4)
			}
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.f32"), formats.EncodeFloat32(nil, vals), 0o644)
	numpytest.Run(t, `
import numpy as np, sys, os
d, rows, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.fromfile(os.path.join(d, 'x.f32'), '<f4').reshape(rows, dim)
for bits in (8, 4):
    per = 8 // bits
    nb = (dim + per - 1) // per
    out = np.zeros((rows, nb + 4), np.uint8)
    with np.errstate(all='ignore'):
        mn = x.min(axis=1).astype(np.float16)
        mnf = mn.astype(np.float32)
        rng = x.max(axis=1) - mnf
        scale = np.where(rng == 0, np.float32(1), rng / np.float32((1 << bits) - 1)).astype(np.float32)
        sh = scale.astype(np.float16)
        scale = sh.astype(np.float32)
        scale = np.where(scale == 0, np.float32(1), scale)
        inv = (np.float32(1) / scale).astype(np.float32)
        bad = np.isinf(inv)
        scale = np.where(bad, np.float32(1), scale)
        inv = np.where(bad, np.float32(1), inv)
        q = np.rint(((x - mnf[:, None]).astype(np.float32) * inv[:, None]).astype(np.float32))
    q = np.clip(q, 0, (1 << bits) - 1).astype(np.uint8)
    for j in range(dim):
        out[:, j // per] |= (q[:, j] << ((j % per) * bits)).astype(np.uint8)
    out[:, nb:nb+2] = scale.astype(np.float16).view(np.uint8).reshape(rows, 2)
    out[:, nb+2:nb+4] = mn.view(np.uint8).reshape(rows, 2)
    out.tofile(os.path.join(d, 'q%d.u8' % bits))
`, dir, fmt.Sprint(rows), fmt.Sprint(dim))
	for _, tier := range []core.Tier{core.INT8, core.INT4} {
		bits := map[core.Tier]int{core.INT8: 8, core.INT4: 4}[tier]
		want, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("q%d.u8", bits)))
		if err != nil {
			t.Fatal(err)
		}
		rb := tier.RowBytes(dim)
		got := make([]byte, rb)
		for i := 0; i < rows; i++ {
			core.EncodeRow(tier, got, vals[i*dim:(i+1)*dim])
			if !bytes.Equal(got, want[i*rb:(i+1)*rb]) {
				t.Fatalf("%v row %d:\n shark %x\n numpy %x", tier, i, got, want[i*rb:(i+1)*rb])
			}
		}
	}
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

// NumPy reads both export layouts, and its values equal shark's own reads.
func TestExportReadByNumPy(t *testing.T) {
	in := openNCF(t)
	s := DefaultSettings()
	s.Assign, s.Fractions = "fractions", [4]float64{0.1, 0.2, 0.3, 0.4}
	plan, err := NewPlan(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := plan.Write(&buf); err != nil {
		t.Fatal(err)
	}
	rd, err := sharkfile.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, l := range []Layout{Dequantized, Tiers} {
		for _, to := range []string{"npz", "safetensors"} {
			var out bytes.Buffer
			if err := Export(rd, to, l, &out); err != nil {
				t.Fatalf("%s %s: %v", to, l, err)
			}
			os.WriteFile(filepath.Join(dir, string(l)+"."+to), out.Bytes(), 0o644)
			// shark reads its own export back.
			f, err := formats.OpenReaderAt(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil || f.Format != to {
				t.Fatalf("%s %s reopened: %v", to, l, err)
			}
		}
	}
	// shark's dequantized rows, for NumPy to compare against.
	var want bytes.Buffer
	for _, tbl := range rd.Tables() {
		row := make([]float32, tbl.Dim())
		for r := 0; r < tbl.Rows(); r++ {
			tbl.Row(r, row)
			want.Write(formats.EncodeFloat32(nil, row))
		}
	}
	os.WriteFile(filepath.Join(dir, "want.f32"), want.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "src.npz"), mustRead(t, ncf), 0o644)
	out := numpytest.Run(t, `
import numpy as np, sys, os
d = sys.argv[1]
deq = np.load(os.path.join(d, 'dequantized.npz'))
tiers = np.load(os.path.join(d, 'tiers.npz'))
src = np.load(os.path.join(d, 'src.npz'))
want = np.fromfile(os.path.join(d, 'want.f32'), '<f4')
names = ['item_embedding_W', 'user_embedding_W']
got = np.concatenate([deq[n].ravel() for n in names])
assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32)), 'dequantized export differs'
for n in src.files:
    if n not in names:
        assert np.array_equal(src[n], deq[n]) and src[n].dtype == deq[n].dtype, n
# Rebuild each table from the tier layout with NumPy's own FBGEMM dequantizer.
for n in names:
    D = deq[n].shape[1]
    out = np.full(deq[n].shape, np.nan, np.float32)
    out[tiers[n + '.fp32.ids']] = tiers[n + '.fp32.rows']
    out[tiers[n + '.fp16.ids']] = tiers[n + '.fp16.rows'].astype(np.float32)
    for t, bits in (('int8', 8), ('int4', 4)):
        rows = tiers[n + '.' + t + '.rows']
        per = 8 // bits
        nb = (D + per - 1) // per
        scale = rows[:, nb:nb+2].copy().view(np.float16).astype(np.float32)
        bias = rows[:, nb+2:nb+4].copy().view(np.float16).astype(np.float32)
        codes = np.zeros((rows.shape[0], D), np.float32)
        for j in range(D):
            codes[:, j] = (rows[:, j // per] >> ((j % per) * bits)) & ((1 << bits) - 1)
        out[tiers[n + '.' + t + '.ids']] = scale * codes + bias
    assert np.array_equal(out, deq[n]), n + ': tier layout differs'
print('ok', len(deq.files), len(tiers.files))
`, dir)
	if !strings.HasPrefix(out, "ok 10 24") {
		t.Fatalf("numpy: %q", out)
	}
}

func mustRead(t testing.TB, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Counts drive the priorities: with counts, the rows clicked most keep the
// best precision.
func TestCountsPriorities(t *testing.T) {
	in, cf := openExample(t, 7)
	plan, err := NewPlan(in, DefaultSettings(), Env{Counts: cf})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range plan.Tables {
		if tp.PrioritySource != "counts" {
			t.Fatal("counts not used")
		}
		// Mean priority per tier must fall with precision.
		var sum, n [4]float64
		pr := make([]float64, tp.Stats.Len())
		tp.Stats.Scan(func(r int, s *core.RowStat) { pr[r] = float64(s.P) })
		for r, tier := range tp.Tiers() {
			sum[tier] += pr[r]
			n[tier]++
		}
		prev := math.Inf(1)
		for tier := 0; tier < 4; tier++ {
			if n[tier] == 0 {
				continue
			}
			m := sum[tier] / n[tier]
			if m > prev {
				t.Fatalf("%s: tier %v has mean priority %v above a more precise tier's %v", tp.Name, core.Tier(tier), m, prev)
			}
			prev = m
		}
	}
	// Missing counts for a table: a clear error.
	bad := &formats.File{Tensors: cf.Tensors[:1]}
	if _, err := NewPlan(in, DefaultSettings(), Env{Counts: bad}); err == nil || !strings.Contains(err.Error(), ".neg") {
		t.Fatalf("missing counts: %v", err)
	}
}

// Spilling the per-row stats to disk changes nothing in the output.
func TestSpillIsTransparent(t *testing.T) {
	in := openNCF(t)
	var outs [2][]byte
	for i, spill := range []int{0, 1000} {
		s := DefaultSettings()
		s.Created = 1 // the same creation time in both
		plan, err := NewPlan(in, s, Env{SpillRows: spill})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(plan.spills); (spill > 0) != (got == 2) {
			t.Fatalf("spill %d: %d tables spilled", spill, got)
		}
		var buf bytes.Buffer
		if err := plan.Write(&buf); err != nil {
			t.Fatal(err)
		}
		name := plan.spills
		if err := plan.Close(); err != nil {
			t.Fatal(err)
		}
		for _, f := range name {
			if _, err := os.Stat(f.f.Name()); !os.IsNotExist(err) {
				t.Fatal("spill file left behind")
			}
		}
		outs[i] = buf.Bytes()
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("spilled and in-memory plans wrote different files")
	}
}

// openExample writes the example model and its counts and opens both.
func openExample(t *testing.T, seed uint64) (model *Input, counts *formats.File) {
	t.Helper()
	mp, cp, err := ExampleFiles(t.TempDir(), seed)
	if err != nil {
		t.Fatal(err)
	}
	model, err = Open(mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { model.Close() })
	c, err := Open(cp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return model, c.File
}

// Priorities kept in a temporary file (tables that spill their stats) are,
// bit for bit, those kept in memory, and bad counts fail the same way.
func TestStreamedCountsPriorities(t *testing.T) {
	in, cf := openExample(t, 8)
	priorities := func(spill int, c *formats.File) ([][]float32, error) {
		plan, err := NewPlan(in, DefaultSettings(), Env{Counts: c, SpillRows: spill})
		if err != nil {
			return nil, err
		}
		defer plan.Close()
		var out [][]float32
		for _, tp := range plan.Tables {
			pr := make([]float32, tp.Stats.Len())
			tp.Stats.Scan(func(r int, s *core.RowStat) { pr[r] = s.P })
			out = append(out, pr)
		}
		return out, nil
	}
	whole, err := priorities(0, cf)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := priorities(1, cf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range whole {
		for r := range whole[i] {
			if math.Float32bits(whole[i][r]) != math.Float32bits(streamed[i][r]) {
				t.Fatalf("table %d row %d: whole %v, streamed %v", i, r, whole[i][r], streamed[i][r])
			}
		}
	}
	// A negative count, in the last period of one table's .neg.
	var bad formats.File
	for _, tn := range cf.Tensors {
		tn := tn
		if strings.HasSuffix(tn.Name, ".neg") && len(bad.Tensors) < 4 {
			rc, err := tn.Open()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			vals := formats.DecodeFloat64(nil, tn.DType, raw)
			vals[len(vals)-1] = -1
			b := make([]byte, 8*len(vals))
			for i, v := range vals {
				binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
			}
			tn = formats.NewTensorAt(tn.Name, formats.F64, tn.Shape, int64(len(b)), bytes.NewReader(b), 0)
		}
		bad.Tensors = append(bad.Tensors, tn)
	}
	_, errWhole := priorities(0, &bad)
	_, errStream := priorities(1, &bad)
	if errWhole == nil || errStream == nil || errWhole.Error() != errStream.Error() {
		t.Fatalf("bad counts: whole %v, streamed %v", errWhole, errStream)
	}
}
