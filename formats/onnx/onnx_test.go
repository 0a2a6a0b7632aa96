package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	"shark/internal/pyref"
)

// fixtures writes models with Debian's onnx (and PyTorch's exporter) and,
// for each, a JSON map of initializer name -> the hex of NumPy's bytes.
const fixtures = `
import sys, os, json, numpy as np, onnx, torch
from onnx import helper, numpy_helper, TensorProto as T
out = sys.argv[1]

def expect(path, model):
    res = {}
    for t in model.graph.initializer:
        if t.data_type in (T.STRING, T.UINT32, T.UINT64, T.UINT16):
            continue
        if t.data_type == T.BFLOAT16:
            b = t.raw_data if t.raw_data else np.array(t.int32_data, dtype=np.uint16).tobytes()
        else:
            b = numpy_helper.to_array(t).tobytes()
        res[t.name] = b.hex()
    with open(path + ".json", "w") as f:
        json.dump(res, f)

class M(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.user = torch.nn.Embedding(1000, 16)
        s.item = torch.nn.Embedding(500, 8)
        s.top = torch.nn.Linear(24, 1)
    def forward(s, u, i):
        return s.top(torch.cat([s.user(u), s.item(i)], 1))
torch.manual_seed(3)
p = os.path.join(out, "torch.onnx")
torch.onnx.export(M(), (torch.tensor([1, 2]), torch.tensor([3, 4])), p, input_names=["u", "i"], opset_version=13)
expect(p, onnx.load(p))

rng = np.random.default_rng(5)
inits = [
    helper.make_tensor("f", T.FLOAT, [3, 2], rng.standard_normal(6).astype(np.float32)),
    helper.make_tensor("f_raw", T.FLOAT, [2, 2], rng.standard_normal(4).astype(np.float32).tobytes(), raw=True),
    helper.make_tensor("h", T.FLOAT16, [4], np.array([1, -2, 0.5, 65504], dtype=np.float16).view(np.uint16)),
    helper.make_tensor("i64", T.INT64, [3], [1, -1, 1 << 40]),
    helper.make_tensor("i32", T.INT32, [2], [-7, 1 << 30]),
    helper.make_tensor("i16", T.INT16, [2], [-300, 300]),
    helper.make_tensor("i8", T.INT8, [3], [-128, 0, 127]),
    helper.make_tensor("u8", T.UINT8, [2], [0, 255]),
    helper.make_tensor("b", T.BOOL, [3], [True, False, True]),
    helper.make_tensor("d", T.DOUBLE, [2], [0.1, -2.5]),
    helper.make_tensor("bf", T.BFLOAT16, [2], [0x3f80, 0xc000]),
    helper.make_tensor("scalar", T.FLOAT, [], [4.5]),
    helper.make_tensor("s", T.STRING, [1], [b"hello"]),
    helper.make_tensor("u32", T.UINT32, [1], [7]),
    numpy_helper.from_array(rng.standard_normal((2000, 4)).astype(np.float32), "table"),
]
g = helper.make_graph([helper.make_node("Gather", ["table", "idx"], ["y"], name="lookup")], "g",
    [helper.make_tensor_value_info("idx", T.INT64, [None])], [helper.make_tensor_value_info("y", T.FLOAT, [None, 4])], inits)
typed = helper.make_model(g, producer_name="shark-test")
p = os.path.join(out, "typed.onnx")
onnx.save(typed, p)
expect(p, typed)

ext = os.path.join(out, "ext")
os.makedirs(ext)
p = os.path.join(ext, "model.onnx")
m = onnx.load(os.path.join(out, "torch.onnx"))
onnx.save_model(m, p, save_as_external_data=True, all_tensors_to_one_file=True, location="model.data", size_threshold=0)
expect(p, onnx.load(p))
`

var dir string

func models(t *testing.T) string {
	t.Helper()
	if dir == "" {
		d, err := os.MkdirTemp("", "shark-onnx-")
		if err != nil {
			t.Fatal(err)
		}
		pyref.RunWith(t, []string{"onnx", "torch"}, fixtures, d)
		dir = d
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func open(t *testing.T, path string) *formats.File {
	t.Helper()
	f, osf, err := formats.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); osf.Close() })
	if f.Format != name {
		t.Fatalf("%s opened as %s", path, f.Format)
	}
	return f
}

// Every initializer equals NumPy's view of it, bit for bit.
func TestModelsFromOnnx(t *testing.T) {
	d := models(t)
	for _, p := range []string{"torch.onnx", "typed.onnx", "ext/model.onnx"} {
		t.Run(p, func(t *testing.T) {
			path := filepath.Join(d, p)
			var want map[string]string
			b, _ := os.ReadFile(path + ".json")
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			f := open(t, path)
			if len(f.Tensors) != len(want) {
				t.Fatalf("%d tensors, NumPy sees %d", len(f.Tensors), len(want))
			}
			for _, ft := range f.Tensors {
				rc, err := ft.Open()
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				if hexOf(got) != want[ft.Name] {
					t.Fatalf("%s (%s %v) differs from NumPy's", ft.Name, ft.DType, ft.Shape)
				}
			}
		})
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// Gather nodes mark the tables they read; skipped constants are named.
func TestGatherAndMeta(t *testing.T) {
	f := open(t, filepath.Join(models(t), "torch.onnx"))
	u, err := f.Tensor("user.weight")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.GatheredBy) != 1 || !strings.Contains(u.GatheredBy[0], "Gather") {
		t.Fatalf("user.weight gathered by %v", u.GatheredBy)
	}
	if top, _ := f.Tensor("top.weight"); len(top.GatheredBy) != 0 {
		t.Fatalf("top.weight gathered by %v", top.GatheredBy)
	}
	g := open(t, filepath.Join(models(t), "typed.onnx"))
	if g.Meta["onnx.skipped"] != "s (STRING), u32 (UINT32)" || g.Meta["onnx.producer"] != "shark-test" {
		t.Fatalf("meta %v", g.Meta)
	}
	if tb, _ := g.Tensor("table"); len(tb.GatheredBy) != 1 || tb.GatheredBy[0] != "lookup" {
		t.Fatalf("table gathered by %v", tb.GatheredBy)
	}
}

// A model opened alone (as the page opens it) names the data file it needs.
func TestExternalAlone(t *testing.T) {
	path := filepath.Join(models(t), "ext/model.onnx")
	b, _ := os.ReadFile(path)
	_, err := formats.Open(bytes.NewReader(b), int64(len(b)), "model.onnx")
	if !errors.Is(err, formats.ErrUnsupported) || !strings.Contains(err.Error(), `"model.data" beside the model`) {
		t.Fatal(err)
	}
}

// A model's size on disk counts the external data files it reads
// (File.Beside), each once; a model of its own data has none.
func TestExternalBeside(t *testing.T) {
	d := models(t)
	st, err := os.Stat(filepath.Join(d, "ext", "model.data"))
	if err != nil {
		t.Fatal(err)
	}
	if f := open(t, filepath.Join(d, "ext", "model.onnx")); f.Beside != st.Size() || f.InputBytes() != f.Size+st.Size() {
		t.Fatalf("ext/model.onnx: beside %d bytes, model.data is %d", f.Beside, st.Size())
	}
	if f := open(t, filepath.Join(d, "torch.onnx")); f.Beside != 0 {
		t.Fatalf("torch.onnx: beside %d bytes", f.Beside)
	}
}
