package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	fynetest "fyne.io/fyne/v2/test"

	"shark/compress"
	"shark/formats"
)

// The app exports an open .shark file as ONNX by the file name's
// extension: compress's export, the tables as quantized lookups that read
// back as compressed tables.
func TestExportONNX(t *testing.T) {
	in, err := compress.Open(ncf)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	plan, err := compress.NewPlan(in, compress.DefaultSettings(), compress.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var buf bytes.Buffer
	if err := plan.Write(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m := filepath.Join(dir, "m.shark")
	os.WriteFile(m, buf.Bytes(), 0o644)
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Open(m)
	exp := filepath.Join(dir, "m.onnx")
	if err := u.ExportTo(exp, compress.Dequantized); err != nil {
		t.Fatal(err)
	}
	f, osf, err := formats.OpenFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	defer f.Close()
	tables := 0
	for _, ft := range f.Tensors {
		if ft.Tiers != nil {
			tables++
		}
	}
	if f.Format != "onnx" || tables != 2 {
		t.Fatalf("the export is %s with %d compressed tables", f.Format, tables)
	}
}
