package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"shark/compress"
	"shark/formats/onnx"
	"shark/internal/pyref"
)

// The ONNX export is checked by ONNX Runtime itself: onnxruntime-node
// 1.30, which scripts/onnxruntime.sh installs with npm into a folder it
// names in SHARK_ONNXRUNTIME (./build.sh test runs it).

// ortDir is the folder holding node_modules/onnxruntime-node, or the test
// is skipped saying how to get it.
func ortDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SHARK_ONNXRUNTIME")
	if dir == "" {
		t.Skip("ONNX Runtime not installed: scripts/onnxruntime.sh installs onnxruntime-node 1.30 (npm install --ignore-scripts) and runs this test with SHARK_ONNXRUNTIME set")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("SHARK_ONNXRUNTIME is set but node is not on PATH: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		t.Fatalf("SHARK_ONNXRUNTIME=%s holds no node_modules/onnxruntime-node: %v", dir, err)
	}
	return dir
}

type ortInput struct {
	Dims []int64 `json:"dims"`
	Data []int64 `json:"data"`
}

type ortOutput struct {
	Dims []int64   `json:"dims"`
	Type string    `json:"type"`
	Data []float64 `json:"data"`
}

// runORT runs model under ONNX Runtime on the inputs.
func runORT(t *testing.T, dir, model string, in map[string]ortInput) map[string]ortOutput {
	t.Helper()
	work := t.TempDir()
	inPath, outPath := filepath.Join(work, "in.json"), filepath.Join(work, "out.json")
	b, _ := json.Marshal(in)
	if err := os.WriteFile(inPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "ort_run.js"))
	cmd := exec.Command("node", script, model, inPath, outPath)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("onnxruntime on %s: %v\n%s", filepath.Base(model), err, out)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]ortOutput
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// recommender is a model exported by torch.onnx.export: two embedding
// tables, a bag table (nn.EmbeddingBag with offsets: torch 1.13 writes its
// Gather inside a Loop's body) and an MLP.
const recommender = `
import sys, torch
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.user_emb = torch.nn.Embedding(5000, 16)
        s.item_emb = torch.nn.Embedding(3000, 16)
        s.tag_emb = torch.nn.EmbeddingBag(2000, 16, mode="sum")
        s.mlp = torch.nn.Sequential(torch.nn.Linear(48, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    def forward(s, u, i, tags, offsets):
        x = torch.cat([s.user_emb(u), s.item_emb(i), s.tag_emb(tags, offsets)], 1)
        return torch.sigmoid(s.mlp(x))
m = M().eval()
with torch.no_grad():
    for e in (m.user_emb, m.item_emb, m.tag_emb):
        e.weight.mul_(0.1)
u, i, t, o = torch.tensor([1, 2, 3]), torch.tensor([4, 5, 6]), torch.tensor([1, 2, 3, 4, 5]), torch.tensor([0, 2, 3])
torch.onnx.export(m, (u, i, t, o), sys.argv[1], input_names=["u", "i", "tags", "offsets"], output_names=["p"],
    dynamic_axes={"u": {0: "b"}, "i": {0: "b"}, "tags": {0: "n"}, "offsets": {0: "b"}, "p": {0: "b"}}, opset_version=14)
`

// dequantizedGraph writes the original model with its tables replaced by
// shark's dequantized rows (what the exported model must compute), and
// inputs; it prints a bound on how far the model's output may move, from
// the tables' largest errors: the MLP's first layer moves by at most
// sum_k |W1_jk| * err_k, ReLU does not add, and the sigmoid's slope is at
// most 1/4.
const dequantizedGraph = `
import sys, json, numpy as np, onnx
from onnx import numpy_helper
rec, deq_npz, deq_onnx, inputs = sys.argv[1:5]
d = np.load(deq_npz)
m = onnx.load(rec)
w = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
for init in m.graph.initializer:
    if init.name in d.files:
        init.CopyFrom(numpy_helper.from_array(d[init.name], init.name))
onnx.save(m, deq_onnx)
rng = np.random.default_rng(1)
b, per = 64, 3
tags = rng.integers(0, 2000, b * per)
json.dump({"u": {"dims": [b], "data": rng.integers(0, 5000, b).tolist()},
           "i": {"dims": [b], "data": rng.integers(0, 3000, b).tolist()},
           "tags": {"dims": [b * per], "data": tags.tolist()},
           "offsets": {"dims": [b], "data": list(range(0, b * per, per))}}, open(inputs, "w"))
err = lambda n: float(np.abs(d[n].astype(np.float64) - w[n]).max())
delta = np.concatenate([np.full(16, err("user_emb.weight")), np.full(16, err("item_emb.weight")), np.full(16, per * err("tag_emb.weight"))])
print(0.25 * float(np.abs(w["mlp.2.weight"][0]) @ (np.abs(w["mlp.0.weight"]) @ delta)))
`

// A recommender from torch.onnx.export, quantized to all four tiers and
// exported with its graph, runs under ONNX Runtime and computes what the
// original graph computes with shark's dequantized tables; its output
// stays within what the tables' errors allow of the original model's.
func TestONNXRuntimeGraph(t *testing.T) {
	ort := ortDir(t)
	dir := t.TempDir()
	rec, m, q := filepath.Join(dir, "rec.onnx"), filepath.Join(dir, "m.shark"), filepath.Join(dir, "q.onnx")
	pyref.RunWith(t, []string{"torch", "onnx"}, recommender, rec)
	mustShark(t, "quantize", rec, "--fp32", "0.1", "--fp16", "0.2", "--int8", "0.3", "--int4", "0.4", "-o", m)
	mustShark(t, "export", m, "--to", "onnx", "--graph", rec, "-o", q)
	if out := mustShark(t, "inspect", q); strings.Count(out, "compressed table") != 3 || !strings.Contains(out, "onnx.quantized_lookup.tag_emb.weight: 2,000 × 16 F32, tiers fp32/fp16/int8/int4 200/400/600/800") {
		t.Errorf("inspect of the exported model:\n%s", out)
	}
	deqNPZ, deqONNX, inputs := filepath.Join(dir, "deq.npz"), filepath.Join(dir, "deq.onnx"), filepath.Join(dir, "in.json")
	mustShark(t, "export", m, "--to", "npz", "--layout", "dequantized", "-o", deqNPZ)
	bound, err := strconv.ParseFloat(strings.TrimSpace(pyref.RunWith(t, []string{"onnx"}, dequantizedGraph, rec, deqNPZ, deqONNX, inputs)), 64)
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]ortInput
	b, _ := os.ReadFile(inputs)
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	orig, exp, want := runORT(t, ort, rec, in)["p"], runORT(t, ort, q, in)["p"], runORT(t, ort, deqONNX, in)["p"]
	if len(exp.Data) != 64 || len(orig.Data) != 64 || len(want.Data) != 64 {
		t.Fatalf("outputs of %d, %d, %d values", len(orig.Data), len(exp.Data), len(want.Data))
	}
	var rounding, moved float64
	for i := range exp.Data {
		rounding = max(rounding, math.Abs(exp.Data[i]-want.Data[i]))
		moved = max(moved, math.Abs(exp.Data[i]-orig.Data[i]))
	}
	if rounding > 1e-6 {
		t.Errorf("the exported model's outputs differ from the dequantized graph's by %g", rounding)
	}
	if moved > bound || moved == 0 {
		t.Errorf("the exported model's outputs moved by %g from the original's; the tables' errors allow %g", moved, bound)
	}
	t.Logf("outputs: %g from the dequantized graph's, %g from the original's (bound %g); sizes: %s", rounding, moved, bound, sizes(t, rec, m, q))
	if st, _ := os.Stat(q); st.Size()*2 > fileSize(t, rec) {
		t.Errorf("the exported model takes %d bytes, more than half the fp32 model's %d", st.Size(), fileSize(t, rec))
	}

	// The same with its initializers in an external data file (as past
	// 2 GiB): the same outputs.
	ext := filepath.Join(dir, "ext.onnx")
	sin, err := compress.Open(m)
	if err != nil {
		t.Fatal(err)
	}
	defer sin.Close()
	gin, err := compress.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer gin.Close()
	if err := compress.ExportONNXFile(context.Background(), sin, gin, ext, onnx.Options{ExternalAbove: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	if fileSize(t, ext) > 64<<10 {
		t.Fatalf("the model with external data takes %d bytes", fileSize(t, ext))
	}
	got := runORT(t, ort, ext, in)["p"]
	for i := range got.Data {
		if got.Data[i] != exp.Data[i] {
			t.Fatalf("output %d with external data: %v, inline %v", i, got.Data[i], exp.Data[i])
		}
	}
}

// An .npz of an fp32 table of odd width and an fp16 table, quantized to
// all four tiers, exported as lookups alone (inline, and with its data in
// an external file): ONNX Runtime's rows are export --to npz --layout
// dequantized's, exactly, in the tables' dtypes.
func TestONNXRuntimeLookups(t *testing.T) {
	ort := ortDir(t)
	dir := t.TempDir()
	src, m, l := filepath.Join(dir, "tables.npz"), filepath.Join(dir, "m.shark"), filepath.Join(dir, "l.onnx")
	pyref.Run(t, `
import sys, numpy as np
rng = np.random.default_rng(2)
np.savez(sys.argv[1], user_emb=(rng.standard_normal((4000, 13)) * 0.1).astype(np.float32),
         item_emb=(rng.standard_normal((1500, 8)) * 0.1).astype(np.float16), scale=np.ones(4, np.float32))
`, src)
	mustShark(t, "quantize", src, "--fp32", "0.1", "--fp16", "0.2", "--int8", "0.3", "--int4", "0.4", "--min-rows", "1000", "-o", m)
	mustShark(t, "export", m, "--to", "onnx", "-o", l)
	deq := filepath.Join(dir, "deq.npz")
	mustShark(t, "export", m, "--to", "npz", "--layout", "dequantized", "-o", deq)
	in := map[string]ortInput{}
	for name, rows := range map[string]int64{"user_emb": 4000, "item_emb": 1500} {
		ids := make([]int64, rows+2)
		for i := range rows {
			ids[i] = i
		}
		ids[rows], ids[rows+1] = -1, -rows // ONNX Gather counts negative ids from the end
		in[name+".ids"] = ortInput{Dims: []int64{rows + 2}, Data: ids}
	}
	got := runORT(t, ort, l, in)
	checkRows(t, got, deq)
	t.Logf("sizes: %s", sizes(t, src, m, l))

	ext := filepath.Join(dir, "ext.onnx")
	in2, err := compress.Open(m)
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close()
	if err := compress.ExportONNXFile(context.Background(), in2, nil, ext, onnx.Options{ExternalAbove: 4096}); err != nil {
		t.Fatal(err)
	}
	if fileSize(t, ext) > 16<<10 || fileSize(t, ext+".data") < fileSize(t, l)-16<<10 {
		t.Fatalf("external data: model %d bytes, data %d bytes", fileSize(t, ext), fileSize(t, ext+".data"))
	}
	checkRows(t, runORT(t, ort, ext, in), deq)
}

// checkRows compares ONNX Runtime's looked-up rows with the dequantized
// export's, value for value.
func checkRows(t *testing.T, got map[string]ortOutput, deqPath string) {
	t.Helper()
	deq, err := compress.Open(deqPath)
	if err != nil {
		t.Fatal(err)
	}
	defer deq.Close()
	for _, name := range []string{"user_emb", "item_emb"} {
		ft, err := deq.File.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := ft.Open()
		raw, _ := io.ReadAll(rc)
		rc.Close()
		out := got[name+".rows"]
		rows, dim := ft.Shape[0], ft.Shape[1]
		if len(out.Dims) != 2 || out.Dims[0] != rows+2 || out.Dims[1] != dim {
			t.Fatalf("%s: rows of shape %v", name, out.Dims)
		}
		size := int64(ft.DType.Size())
		value := func(i int64) float64 { // element i of the export
			if size == 2 {
				return float64(binary.LittleEndian.Uint16(raw[2*i:]))
			}
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		for i := int64(0); i < (rows+2)*dim; i++ {
			r, c := i/dim, i%dim
			switch r {
			case rows:
				r = rows - 1
			case rows + 1:
				r = 0
			}
			if want := value(r*dim + c); out.Data[i] != want {
				t.Fatalf("%s (%s) row %d column %d: onnxruntime %v, the dequantized export %v", name, out.Type, r, c, out.Data[i], want)
			}
		}
	}
}

func mustShark(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := shark(t, args...)
	if code != 0 {
		t.Fatalf("shark %s: %d %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func sizes(t *testing.T, paths ...string) string {
	var parts []string
	for _, p := range paths {
		parts = append(parts, filepath.Base(p)+" "+compress.Size(fileSize(t, p)))
	}
	return strings.Join(parts, ", ")
}

// Without --graph, export --to onnx takes the .onnx the .shark file
// records, from beside it, and writes the lookups alone when it is not
// there; --graph is refused for other formats and must name an ONNX model.
func TestExportONNXGraphChoice(t *testing.T) {
	dir := t.TempDir()
	rec, m := filepath.Join(dir, "rec.onnx"), filepath.Join(dir, "m.shark")
	pyref.RunWith(t, []string{"torch", "onnx"}, recommender, rec)
	mustShark(t, "quantize", rec, "-o", m)
	if out := mustShark(t, "export", m, "--to", "onnx", "-o", filepath.Join(dir, "a.onnx")); !strings.Contains(out, "the graph of") {
		t.Errorf("with rec.onnx beside m.shark: %s", out)
	}
	if out := mustShark(t, "inspect", filepath.Join(dir, "a.onnx")); !strings.Contains(out, "mlp.0.weight") {
		t.Errorf("the graph's dense tensors are not in the export:\n%s", out)
	}
	if err := os.Rename(rec, filepath.Join(dir, "elsewhere.onnx")); err != nil {
		t.Fatal(err)
	}
	out := mustShark(t, "export", m, "--to", "onnx", "-o", filepath.Join(dir, "b.onnx"))
	if !strings.Contains(out, "the lookups alone") {
		t.Errorf("without rec.onnx: %s", out)
	}
	if out := mustShark(t, "inspect", filepath.Join(dir, "b.onnx")); strings.Contains(out, "mlp.0.weight") || strings.Count(out, "compressed table") != 3 {
		t.Errorf("the lookups-only export:\n%s", out)
	}
	if code, _, errOut := shark(t, "export", m, "--to", "npz", "--graph", filepath.Join(dir, "elsewhere.onnx"), "-o", filepath.Join(dir, "c.npz")); code != 2 {
		t.Errorf("--graph with --to npz: %d %s", code, errOut)
	}
	if code, _, errOut := shark(t, "export", m, "--to", "onnx", "--graph", m, "-o", filepath.Join(dir, "d.onnx")); code == 0 || !strings.Contains(errOut, "not an ONNX model") {
		t.Errorf("--graph naming a .shark file: %d %s", code, errOut)
	}
}

// The later tiers under ONNX Runtime: the tables of TestONNXRuntimeLookups
// quantized with int2 and the block tiers (blocks of 16 and of 100 rows,
// a block tier alone beside fp32 and int2, every tier) and exported as
// lookups alone: ONNX Runtime's rows, negative ids too, are the
// dequantized export's exactly, and shark reads the model back with the
// rows per tier.
func TestONNXRuntimeLaterTiers(t *testing.T) {
	ort := ortDir(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "tables.npz")
	pyref.Run(t, `
import sys, numpy as np
rng = np.random.default_rng(2)
np.savez(sys.argv[1], user_emb=(rng.standard_normal((4000, 13)) * 0.1).astype(np.float32),
         item_emb=(rng.standard_normal((1500, 8)) * 0.1).astype(np.float16))
`, src)
	in := map[string]ortInput{}
	for name, rows := range map[string]int64{"user_emb": 4000, "item_emb": 1500} {
		ids := make([]int64, rows+2)
		for i := range rows {
			ids[i] = i
		}
		ids[rows], ids[rows+1] = -1, -rows
		in[name+".ids"] = ortInput{Dims: []int64{rows + 2}, Data: ids}
	}
	seen := map[string]int64{}
	for i, args := range [][]string{
		{"--tiers", "all", "--budget", "20%", "--block", "16"},
		{"--tiers", "all", "--budget", "14%", "--block", "100"},
		{"--tiers", "fp32,int2,int8-block", "--budget", "40%", "--block", "7"},
		{"--tiers", "fp32,fp16,int2,int4-block", "--budget", "25%", "--block", "33"},
	} {
		m, l, deq := filepath.Join(dir, fmt.Sprintf("m%d.shark", i)), filepath.Join(dir, fmt.Sprintf("l%d.onnx", i)), filepath.Join(dir, fmt.Sprintf("deq%d.npz", i))
		_, rows := quantizeTiersOf(t, src, m, append(args, "--min-rows", "1000")...)
		for k, n := range rows {
			seen[k] += n
		}
		mustShark(t, "export", m, "--to", "onnx", "-o", l)
		mustShark(t, "export", m, "--to", "npz", "--layout", "dequantized", "-o", deq)
		checkRows(t, runORT(t, ort, l, in), deq)
		if out := mustShark(t, "inspect", l); !strings.Contains(out, "fp32/fp16/int8/int4/int2/int8-block/int4-block/int2-block") {
			t.Errorf("%v: inspect of the export:\n%s", args, out)
		}
		t.Logf("%v: rows %v; sizes %s", args, rows, sizes(t, src, m, l))
	}
	for _, k := range []string{"int2", "int8-block", "int4-block", "int2-block"} {
		if seen[k] == 0 {
			t.Errorf("no run put rows in %s: %v", k, seen)
		}
	}
}

// quantizeTiersOf is quantizeTiers of the file src.
func quantizeTiersOf(t *testing.T, src, out string, args ...string) (allowed []string, rows map[string]int64) {
	t.Helper()
	code, stdout, stderr := shark(t, append([]string{"quantize", src, "-o", out, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var res struct {
		Allowed []string `json:"allowed_tiers"`
		Tables  []struct{ Tiers map[string]int64 }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Tables) == 0 {
		t.Fatalf("%v: --json: %v\n%s", args, err, stdout)
	}
	rows = map[string]int64{}
	for _, tb := range res.Tables {
		for k, n := range tb.Tiers {
			rows[k] += n
		}
	}
	return res.Allowed, rows
}

// The recommender of TestONNXRuntimeGraph with its tables in int2 and the
// block tiers, exported with its graph (the bag table's lookup inside a
// Loop's body): ONNX Runtime computes what the graph computes with the
// dequantized tables.
func TestONNXRuntimeGraphLaterTiers(t *testing.T) {
	ort := ortDir(t)
	dir := t.TempDir()
	rec, m, q := filepath.Join(dir, "rec.onnx"), filepath.Join(dir, "m.shark"), filepath.Join(dir, "q.onnx")
	pyref.RunWith(t, []string{"torch", "onnx"}, recommender, rec)
	_, rows := quantizeTiersOf(t, rec, m, "--tiers", "all", "--budget", "15%", "--block", "32")
	if rows["int2-block"]+rows["int4-block"]+rows["int8-block"] == 0 {
		t.Fatalf("no block-tier rows: %v", rows)
	}
	mustShark(t, "export", m, "--to", "onnx", "--graph", rec, "-o", q)
	deqNPZ, deqONNX, inputs := filepath.Join(dir, "deq.npz"), filepath.Join(dir, "deq.onnx"), filepath.Join(dir, "in.json")
	mustShark(t, "export", m, "--to", "npz", "--layout", "dequantized", "-o", deqNPZ)
	pyref.RunWith(t, []string{"onnx"}, dequantizedGraph, rec, deqNPZ, deqONNX, inputs)
	var in map[string]ortInput
	b, _ := os.ReadFile(inputs)
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	exp, want := runORT(t, ort, q, in)["p"], runORT(t, ort, deqONNX, in)["p"]
	if len(exp.Data) != 64 || len(want.Data) != 64 {
		t.Fatalf("outputs of %d, %d values", len(exp.Data), len(want.Data))
	}
	for i := range exp.Data {
		if d := math.Abs(exp.Data[i] - want.Data[i]); d > 1e-6 {
			t.Fatalf("output %d: %v exported, %v with the dequantized tables", i, exp.Data[i], want.Data[i])
		}
	}
	t.Logf("rows %v; sizes %s", rows, sizes(t, rec, m, q))
}
