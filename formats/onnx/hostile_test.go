package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	"shark/internal/pyref"
)

const hostileFixtures = `
import sys, os, onnx
from onnx import helper, TensorProto as T
out = sys.argv[1]

def model(fname, t):
    g = helper.make_graph([], "g", [], [], [t])
    onnx.save(helper.make_model(g), os.path.join(out, fname))

def tensor(dims, raw=None, location=None, length=None):
    t = T()
    t.name, t.data_type = "w", T.FLOAT
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    if location is not None:
        t.data_location = T.EXTERNAL
        e = t.external_data.add()
        e.key, e.value = "location", location
        if length is not None:
            e = t.external_data.add()
            e.key, e.value = "length", str(length)
    return t

model("short_raw.onnx", tensor([10, 4], raw=bytes(100)))
model("overflow.onnx", tensor([1 << 40, 1 << 40], raw=bytes(4)))
model("escape.onnx", tensor([4], location="../secret.bin"))
model("absolute.onnx", tensor([4], location="/etc/passwd"))
model("missing.onnx", tensor([4], location="nope.bin"))
with open(os.path.join(out, "small.bin"), "wb") as f:
    f.write(bytes(8))
model("short_ext.onnx", tensor([4], location="small.bin"))
with open(os.path.join(out, "..", "secret.bin"), "wb") as f:
    f.write(bytes(16))
`

func TestHostileModels(t *testing.T) {
	parent := t.TempDir()
	d := filepath.Join(parent, "models")
	os.Mkdir(d, 0o755)
	pyref.RunWith(t, []string{"onnx"}, hostileFixtures, d)
	good, _ := os.ReadFile(filepath.Join(models(t), "torch.onnx"))
	os.WriteFile(filepath.Join(d, "truncated.onnx"), good[:len(good)-100], 0o644)
	cases := []struct {
		file string
		kind error
		says string
	}{
		{"truncated.onnx", formats.ErrCorrupt, "runs past its message's end"},
		{"short_raw.onnx", formats.ErrCorrupt, "raw_data of 100 bytes; dims [10 4] of F32 need 160"},
		{"overflow.onnx", formats.ErrTooLarge, "overflows"},
		{"escape.onnx", formats.ErrUnsupported, `external data "../secret.bin"`},
		{"absolute.onnx", formats.ErrUnsupported, `external data "/etc/passwd"`},
		{"missing.onnx", formats.ErrUnsupported, `external data "nope.bin"`},
		{"short_ext.onnx", formats.ErrCorrupt, `external data "small.bin": 8 bytes at 0 of a 8-byte file; dims [4] of F32 need 16`},
	}
	for _, c := range cases {
		_, _, err := formats.OpenFile(filepath.Join(d, c.file))
		var fe *formats.Error
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.says) || !errors.As(err, &fe) || fe.Offset < 0 {
			t.Errorf("%s: %v; want %v saying %q at an offset", c.file, err, c.kind, c.says)
		}
	}
}
