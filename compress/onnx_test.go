package compress

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// Every face's ONNX export (Export, what the page calls, and
// ExportFileContext, what the desktop calls) is the same model of the
// tables' lookups, and it reads back as the .shark file's tables: tiers,
// and rows bit for bit as shark decodes them.
func TestExportONNX(t *testing.T) {
	in := openNCF(t)
	s := DefaultSettings()
	s.Assign, s.Fractions = "fractions", [core.NumTiers]float64{0.1, 0.2, 0.3, 0.4}
	plan, err := NewPlan(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sharkPath := filepath.Join(dir, "m.shark")
	var buf bytes.Buffer
	if err := plan.Write(&buf); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(sharkPath, buf.Bytes(), 0o644)
	rd, err := sharkfile.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Export(rd, "onnx", Dequantized, &out); err != nil {
		t.Fatal(err)
	}
	sin, err := Open(sharkPath)
	if err != nil {
		t.Fatal(err)
	}
	defer sin.Close()
	onnxPath := filepath.Join(dir, "m.onnx")
	if err := ExportFileContext(context.Background(), sin, "onnx", Dequantized, onnxPath); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(onnxPath); !bytes.Equal(b, out.Bytes()) {
		t.Fatalf("the file export (%d bytes) differs from Export's (%d)", len(b), out.Len())
	}
	f, err := formats.OpenReaderAt(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range rd.Tables() {
		ft, err := f.Tensor(tbl.Name())
		if err != nil {
			t.Fatal(err)
		}
		if ft.Tiers == nil || *ft.Tiers != tbl.Counts() {
			t.Fatalf("%s: tiers %v, the .shark's %v", tbl.Name(), ft.Tiers, tbl.Counts())
		}
		rc, _ := ft.Open()
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		row := make([]float32, tbl.Dim())
		for r := 0; r < tbl.Rows(); r++ {
			tbl.Row(r, row)
			want = formats.EncodeFloat32(want, row)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: the ONNX lookup's rows differ from shark's", tbl.Name())
		}
	}
	s2 := Summarize(&Input{Name: "m.onnx", File: f})
	for _, ts := range s2.Tensors {
		if ts.Table && (ts.Role != RoleCompressed || ts.Bytes >= ts.Shape[0]*ts.Shape[1]*4/2) {
			t.Errorf("%s summarised as %s of %d bytes", ts.Name, ts.Role, ts.Bytes)
		}
	}
}
