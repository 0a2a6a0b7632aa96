package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"shark/internal/pyref"
)

// variants writes, beside the recommender's rec.onnx, what a new user
// hands shark by mistake or by habit: other.onnx (the same model, other
// weights), rec11.onnx (opset 11) and ext/rec.onnx (its data in
// ext/rec.data, ONNX external data).
const variants = `
import os, onnx
d = os.path.dirname(sys.argv[1])
torch.onnx.export(m, (u, i, t, o), os.path.join(d, "rec11.onnx"), input_names=["u", "i", "tags", "offsets"], output_names=["p"], opset_version=11)
os.makedirs(os.path.join(d, "ext"))
onnx.save_model(onnx.load(sys.argv[1]), os.path.join(d, "ext", "rec.onnx"), save_as_external_data=True, all_tensors_to_one_file=True, location="rec.data", size_threshold=0)
torch.manual_seed(1)
m = M().eval()
torch.onnx.export(m, (u, i, t, o), os.path.join(d, "other.onnx"), input_names=["u", "i", "tags", "offsets"], output_names=["p"], opset_version=14)
`

// moved writes two copies of a graph with item_emb.weight moved towards
// shark's dequantized rows and past them: near.onnx halfway (each value
// within half the table's largest error of shark's, to be accepted),
// far.onnx three times as far (twice each error past shark's: the value
// of the largest error is further than the table allows).
const moved = `
import sys, numpy as np, onnx
from onnx import numpy_helper
rec, deq, near, far = sys.argv[1:5]
d = np.load(deq)["item_emb.weight"]
for path, k in ((near, 0.5), (far, 3.0)):
    m = onnx.load(rec)
    for init in m.graph.initializer:
        if init.name == "item_emb.weight":
            w = numpy_helper.to_array(init)
            init.CopyFrom(numpy_helper.from_array((w + k * (d - w)).astype(np.float32), init.name))
    onnx.save(m, path)
`

// onnxVariants is a folder holding rec.onnx, its .shark (m.shark) and
// the variants.
func onnxVariants(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.onnx")
	pyref.RunWith(t, []string{"torch", "onnx"}, recommender+variants, rec)
	mustShark(t, "quantize", rec, "-o", filepath.Join(dir, "m.shark"))
	return dir
}

// export --to onnx refuses a --graph that is not the model the .shark
// file was made from (an export of it, or a model of the same shapes and
// other weights), writing nothing; when the recorded .onnx is not beside
// the .shark file it warns, on stderr and in --json, that it wrote the
// lookups alone.
func TestExportONNXGraphChecked(t *testing.T) {
	dir := onnxVariants(t)
	m, rec, q := filepath.Join(dir, "m.shark"), filepath.Join(dir, "rec.onnx"), filepath.Join(dir, "q.onnx")
	mustShark(t, "export", m, "--to", "onnx", "--graph", rec, "-o", q)
	refused := func(graph, want string) {
		t.Helper()
		out := filepath.Join(dir, "x.onnx")
		code, _, errOut := shark(t, "export", m, "--to", "onnx", "--graph", graph, "-o", out)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("--graph %s: exit %d, %s", filepath.Base(graph), code, errOut)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("--graph %s refused, yet %s was written (%v)", filepath.Base(graph), filepath.Base(out), err)
		}
	}
	refused(q, "already compressed by shark")
	refused(filepath.Join(dir, "other.onnx"), "is it the model the .shark file was made from?")
	deq := filepath.Join(dir, "deq.npz")
	mustShark(t, "export", m, "--to", "npz", "-o", deq)
	pyref.RunWith(t, []string{"onnx"}, moved, rec, deq, filepath.Join(dir, "near.onnx"), filepath.Join(dir, "far.onnx"))
	mustShark(t, "export", m, "--to", "onnx", "--graph", filepath.Join(dir, "near.onnx"), "-o", filepath.Join(dir, "near.q.onnx"))
	refused(filepath.Join(dir, "far.onnx"), `"item_emb.weight" row`)

	alone := filepath.Join(dir, "alone")
	if err := os.Mkdir(alone, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(m, filepath.Join(alone, "m.shark")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := shark(t, "export", filepath.Join(alone, "m.shark"), "--to", "onnx", "-o", filepath.Join(alone, "l.onnx"), "--json")
	if code != 0 || !strings.Contains(errOut, "not found at "+filepath.Join(alone, "rec.onnx")) || !strings.Contains(errOut, "--graph") {
		t.Fatalf("the graph not beside the .shark file: exit %d, stderr %s", code, errOut)
	}
	var res struct {
		Graph   *string `json:"graph"`
		Warning string  `json:"warning"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Graph == nil || *res.Graph != "" || !strings.Contains(res.Warning, "lookups alone") {
		t.Errorf("--json: %v %s", err, out)
	}
}

// quantize counts an ONNX model's external data in the file's size (and
// export in the size it compares with), warns of an opset before 13 that
// the graph's export will need 13, and says of a model shark exported
// that its tables are compressed already.
func TestQuantizeONNXVariants(t *testing.T) {
	dir := onnxVariants(t)
	ext := filepath.Join(dir, "ext", "rec.onnx")
	var res struct {
		InputBytes int64 `json:"input_bytes"`
	}
	out := mustShark(t, "quantize", ext, "-o", filepath.Join(dir, "ext.shark"), "--json")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	want := fileSize(t, ext) + fileSize(t, filepath.Join(dir, "ext", "rec.data"))
	if res.InputBytes != want {
		t.Errorf("quantize of a model with external data: input_bytes %d, the model and its data are %d", res.InputBytes, want)
	}
	var exp struct {
		Against int64 `json:"against_bytes"`
	}
	out = mustShark(t, "export", filepath.Join(dir, "ext.shark"), "--to", "onnx", "--graph", ext, "-o", filepath.Join(dir, "ext.q.onnx"), "--json")
	if err := json.Unmarshal([]byte(out), &exp); err != nil || exp.Against != want {
		t.Errorf("export against %d bytes (%v), the graph and its data are %d", exp.Against, err, want)
	}

	code, _, errOut := shark(t, "quantize", filepath.Join(dir, "rec11.onnx"), "-o", filepath.Join(dir, "m11.shark"))
	if code != 0 || !strings.Contains(errOut, "opset 11") || !strings.Contains(errOut, "export --to onnx will need opset 13") {
		t.Errorf("quantize of an opset 11 model: exit %d, stderr %s", code, errOut)
	}
	if _, _, errOut := shark(t, "quantize", filepath.Join(dir, "rec.onnx"), "-o", filepath.Join(dir, "m14.shark")); strings.Contains(errOut, "opset") {
		t.Errorf("quantize of an opset 14 model warns: %s", errOut)
	}

	q := filepath.Join(dir, "q.onnx")
	mustShark(t, "export", filepath.Join(dir, "m.shark"), "--to", "onnx", "-o", q)
	code, _, errOut = shark(t, "quantize", q, "-o", filepath.Join(dir, "again.shark"))
	if code == 0 || !strings.Contains(errOut, "already compressed by shark") || !strings.Contains(errOut, `"user_emb.weight"`) {
		t.Errorf("quantize of an exported model: exit %d, %s", code, errOut)
	}
}

// The README's ONNX Runtime snippet runs as written: as served.js, with
// node, on the recommender exported with its graph (a CommonJS script
// cannot await at its top level).
func TestONNXRuntimeREADMESnippet(t *testing.T) {
	ort := ortDir(t)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "As `served.js`")
	_, code, ok2 := strings.Cut(after, "```js\n")
	code, _, ok3 := strings.Cut(code, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```js block after \"As `served.js`\"")
	}
	dir := t.TempDir()
	rec, m := filepath.Join(dir, "rec.onnx"), filepath.Join(dir, "m.shark")
	pyref.RunWith(t, []string{"torch", "onnx"}, recommender, rec)
	mustShark(t, "quantize", rec, "-o", m)
	mustShark(t, "export", m, "--to", "onnx", "--graph", rec, "-o", filepath.Join(dir, "served.onnx"))
	if err := os.WriteFile(filepath.Join(dir, "served.js"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "served.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(ort, "node_modules"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "[ 2, 1 ] Float32Array(2)") {
		t.Fatalf("node served.js: %v\n%s", err, out)
	}
}
