package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fynetest "fyne.io/fyne/v2/test"

	"shark/compress"
)

// An export's file name must end in an extension that picks its format
// (the dialog says so): typing the name of an existing app.log is refused
// when Save is pressed, before Fyne asks to overwrite it, and the file is
// left as it was; ExportTo refuses such a name too, and one with none.
func TestExportRefusesUnknownExtension(t *testing.T) {
	u, dir := compressedExample(t)
	shark := filepath.Join(dir, "model.shark")
	if err := u.SaveTo(shark); err != nil {
		t.Fatal(err)
	}
	u.Open(shark)
	os.WriteFile(filepath.Join(dir, "app.log"), []byte("a log"), 0o644)
	before := fileHashes(t, dir)

	fynetest.Tap(u.export)
	fynetest.Tap(button(t, top(t, u), "Choose file…"))
	chooseInDialog(t, u, "app.log", "")
	settle(t, u)
	got := dialogText(top(t, u))
	if strings.Contains(got, "overwrite") || !strings.Contains(got, ".pt (or .pth), .npz, .safetensors or .onnx") || !strings.Contains(got, `"app.log"`) {
		t.Fatalf("pressing Save on app.log shows %q, not the refusal", got)
	}
	closeDialogs(u)
	sameFiles(t, "exporting to app.log", dir, before)

	for _, name := range []string{"app.log", "model", "model.NPZ.bak"} {
		if err := u.ExportTo(filepath.Join(dir, name), compress.Dequantized); !errors.Is(err, ErrExportExtension) {
			t.Errorf("ExportTo %s: %v, want ErrExportExtension", name, err)
		}
	}
	u.Export(filepath.Join(dir, "app.log"), compress.Dequantized)
	expectError(t, u, "Export to app.log", "picks the export's format")
	sameFiles(t, "ExportTo and Export to unknown extensions", dir, before)
}

// Opening a .shark names every format Export offers, .onnx included.
func TestCompressedFileNamesEveryExport(t *testing.T) {
	u, dir := compressedExample(t)
	shark := filepath.Join(dir, "model.shark")
	if err := u.SaveTo(shark); err != nil {
		t.Fatal(err)
	}
	u.Open(shark)
	for _, ext := range []string{".pt", ".npz", ".safetensors", ".onnx"} {
		if !strings.Contains(u.status.Text, ext) {
			t.Errorf("the status %q does not name %s", u.status.Text, ext)
		}
	}
}
