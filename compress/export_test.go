package compress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
	"shark/internal/pyref"
)

// NumPy reads both export layouts, and its values equal shark's own reads.
func TestExportReadByNumPy(t *testing.T) {
	in := openNCF(t)
	s := DefaultSettings()
	s.Assign, s.Fractions = "fractions", [core.NumTiers]float64{0.1, 0.2, 0.3, 0.4}
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
	out := pyref.Run(t, `
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
