package compress

import (
	"bytes"
	"io"
	"math"
	"testing"

	"shark/core"
	"shark/formats"
	"shark/formats/safetensors"
	"shark/formats/sharkfile"
)

// bf16Shark compresses a bfloat16 table of 300 x 8 under fractions, and
// returns the .shark and the source's values.
func bf16Shark(t *testing.T, fractions [core.NumTiers]float64) (*sharkfile.Reader, []float32) {
	t.Helper()
	var raw []byte
	for i := range 300 * 8 {
		raw = append(raw, formats.EncodeFloat32(nil, []float32{float32(math.Sin(float64(i)*0.37) * 3)})[2:4]...)
	}
	src := formats.DecodeFloat32(nil, formats.BF16, raw)
	var st bytes.Buffer
	spec := safetensors.Spec{Name: "emb", DType: formats.BF16, Shape: []int64{300, 8}, Data: func() (io.Reader, error) { return bytes.NewReader(raw), nil }}
	if err := safetensors.Write(&st, []safetensors.Spec{spec}, nil); err != nil {
		t.Fatal(err)
	}
	in, err := OpenReaderAt(bytes.NewReader(st.Bytes()), int64(st.Len()), "m.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	s.Assign, s.Fractions, s.MinRows = "fractions", fractions, 10
	plan, err := NewPlan(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var buf bytes.Buffer
	if err := plan.Write(&buf); err != nil {
		t.Fatal(err)
	}
	rd, err := sharkfile.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return rd, src
}

// exported is the table emb of an export of rd, its dtype and values.
func exported(t *testing.T, rd *sharkfile.Reader, to string) (formats.DType, []float32) {
	t.Helper()
	var out bytes.Buffer
	if err := Export(rd, to, Dequantized, &out); err != nil {
		t.Fatalf("%s: %v", to, err)
	}
	f, err := formats.OpenReaderAt(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	tn, err := f.Tensor("emb")
	if err != nil {
		t.Fatal(err)
	}
	v, err := tn.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return tn.DType, v
}

// TestExportBF16: a bfloat16 table comes back bfloat16 from a dequantized
// export to safetensors, exactly when its rows were kept at fp32, within
// int8's error and half a bfloat16 unit otherwise; an .npz, which NumPy
// reads without bfloat16, gets shark's float32 rows.
func TestExportBF16(t *testing.T) {
	rd, src := bf16Shark(t, [core.NumTiers]float64{1, 0, 0, 0})
	if d, got := exported(t, rd, "safetensors"); d != formats.BF16 || !equalFloats(got, src) {
		t.Errorf("fp32 rows: %s, equal %v; want the source's bfloat16 values", d, equalFloats(got, src))
	}
	rd, src = bf16Shark(t, [core.NumTiers]float64{0, 0, 1, 0})
	tbl, _ := rd.Table("emb")
	var shark []float32
	row := make([]float32, 8)
	for r := range 300 {
		tbl.Row(r, row)
		shark = append(shark, row...)
	}
	d, got := exported(t, rd, "safetensors")
	if d != formats.BF16 {
		t.Errorf("int8 rows: %s, want bfloat16", d)
	}
	for i := range got {
		ulp := math.Abs(float64(shark[i])) / 256 // half a bfloat16 unit, at most
		if math.Abs(float64(got[i]-shark[i])) > ulp {
			t.Fatalf("value %d: %g, shark's %g, source %g", i, got[i], shark[i], src[i])
		}
	}
	if d, got := exported(t, rd, "npz"); d != formats.F32 || !equalFloats(got, shark) {
		t.Errorf("npz: %s, equal %v; want shark's float32 rows", d, equalFloats(got, shark))
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
