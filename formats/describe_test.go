package formats

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Content no format reads is named for what it is, never called corrupt.
func TestDescribeUnknown(t *testing.T) {
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, n := range []string{"a.txt", "b.json", "c.bin", "d", "e"} {
		w, _ := zw.Create(n)
		w.Write([]byte("x"))
	}
	zw.Close()
	cases := map[string]string{
		"user,item,clicked\n1,2,0\n":             `a text file beginning "user,item,clicked"`,
		"\x1f\x8b\x08\x00rest":                   "gzip-compressed",
		"\x89HDF\r\n\x1a\n\x00\x00":              "HDF5 file",
		"\x80\x04\x95\x10\x00\x00":               "Python pickle",
		legacyTorch + "\x2e":                     "legacy torch.save checkpoint",
		"\x00\x01\x02\x03\xff":                   `binary data beginning "....."`,
		zbuf.String():                            `zip archive of 5 member(s) ("a.txt", "b.json", "c.bin", "d", ...)`,
		"caf\xc3\xa9 au lait\n":                  `text file beginning "café au lait"`,
		"PK\x03\x04 not really a zip at all....": "zip archive whose directory cannot be read",
	}
	for content, says := range cases {
		_, err := Sniff(strings.NewReader(content), int64(len(content)))
		if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v; want %q", content[:min(len(content), 12)], err, says)
		}
		if errors.Is(err, ErrCorrupt) {
			t.Errorf("%q called corrupt", content[:min(len(content), 12)])
		}
	}
}

func TestDescribeSavedModel(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "saved_model.pb"), []byte("\x08\x01\x12\x00"), 0o644)
	_, _, err := OpenFile(dir)
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "TensorFlow SavedModel directory") {
		t.Fatal(err)
	}
}
