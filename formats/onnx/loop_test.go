package onnx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/formats"
	"shark/internal/pyref"
)

// loopModels exports a 500-row nn.EmbeddingBag with offsets through
// torch.onnx.export (torch 1.13 writes its lookup as a Gather inside a
// Loop body), and builds with onnx.helper a Gather two levels down (an If
// branch holding a Loop) of a 300-row table.
const loopModels = `
import sys, os, torch, onnx
from onnx import helper, numpy_helper, TensorProto as T
import numpy as np
out = sys.argv[1]
class M(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.bag = torch.nn.EmbeddingBag(500, 16, mode="sum")
        s.top = torch.nn.Linear(16, 1)
    def forward(s, x, off):
        return s.top(s.bag(x, off))
torch.manual_seed(1)
torch.onnx.export(M().eval(), (torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.tensor([0, 4])), os.path.join(out, "bag.onnx"),
    opset_version=13, input_names=["x", "off"], dynamic_axes={"x": [0], "off": [0]})

body = helper.make_graph([helper.make_node("Gather", ["deep", "i"], ["row"], name="deep_lookup"),
    helper.make_node("Identity", ["c"], ["c_out"])], "body",
    [helper.make_tensor_value_info("i", T.INT64, []), helper.make_tensor_value_info("c", T.BOOL, [])],
    [helper.make_tensor_value_info("c_out", T.BOOL, []), helper.make_tensor_value_info("row", T.FLOAT, [4])])
loop = helper.make_node("Loop", ["n", "cond"], ["rows"], body=body)
then = helper.make_graph([loop], "then", [], [helper.make_tensor_value_info("rows", T.FLOAT, [None, 4])])
other = helper.make_graph([helper.make_node("Identity", ["flat"], ["o"])], "else", [], [helper.make_tensor_value_info("o", T.FLOAT, [None, 4])])
g = helper.make_graph([helper.make_node("If", ["cond"], ["y"], then_branch=then, else_branch=other)], "g",
    [helper.make_tensor_value_info("n", T.INT64, []), helper.make_tensor_value_info("cond", T.BOOL, [])],
    [helper.make_tensor_value_info("y", T.FLOAT, [None, 4])],
    [numpy_helper.from_array(np.ones((300, 4), np.float32), "deep"), numpy_helper.from_array(np.ones((300, 4), np.float32), "flat")])
onnx.checker.check_model(helper.make_model(g))
onnx.save(helper.make_model(g), os.path.join(out, "nested.onnx"))
`

// A Gather at any depth of a model's subgraphs marks the table it reads:
// the exported EmbeddingBag's 500-row table (in a Loop body) and the
// 300-row one inside a Loop inside an If are tables, under the 1,000-row
// rule; the table the If's other branch only copies is not.
func TestGatherInSubgraphs(t *testing.T) {
	dir := t.TempDir()
	pyref.RunWith(t, []string{"torch", "onnx", "numpy"}, loopModels, dir)
	cases := map[string]map[string]bool{
		"bag.onnx":    {"bag.weight": true, "top.weight": false},
		"nested.onnx": {"deep": true, "flat": false},
	}
	for file, want := range cases {
		f := openFile(t, filepath.Join(dir, file))
		for name, table := range want {
			i := slices.IndexFunc(f.Tensors, func(x *formats.Tensor) bool { return x.Name == name })
			if i < 0 {
				t.Fatalf("%s: no %s", file, name)
			}
			tn := f.Tensors[i]
			if got := tn.IsTable(1000); got != table || (len(tn.GatheredBy) > 0) != table {
				t.Fatalf("%s: %s %v is a table: %v (gathered by %v), want %v", file, name, tn.Shape, got, tn.GatheredBy, table)
			}
		}
	}
}

func openFile(t *testing.T, path string) *formats.File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, _ := fh.Stat()
	f, err := Open(formats.Source{R: fh, Size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// nested is a model whose Gather of a 2x2 initializer "t" sits in graphs
// nested depth deep, each in an attribute of the node above.
func nested(depth int) []byte {
	gather := protowire.AppendTag(nil, nodeOpType, protowire.BytesType)
	gather = protowire.AppendString(gather, "Gather")
	gather = protowire.AppendTag(gather, nodeInput, protowire.BytesType)
	gather = protowire.AppendString(gather, "t")
	g := protowire.AppendTag(nil, graphNode, protowire.BytesType)
	g = protowire.AppendBytes(g, gather)
	for range depth {
		attr := protowire.AppendTag(nil, attrGraph, protowire.BytesType)
		attr = protowire.AppendBytes(attr, g)
		node := protowire.AppendTag(nil, nodeAttribute, protowire.BytesType)
		node = protowire.AppendBytes(node, attr)
		g = protowire.AppendTag(nil, graphNode, protowire.BytesType)
		g = protowire.AppendBytes(g, node)
	}
	init := protowire.AppendTag(nil, 1, protowire.VarintType) // dims 2, 2
	init = protowire.AppendVarint(init, 2)
	init = protowire.AppendTag(init, 1, protowire.VarintType)
	init = protowire.AppendVarint(init, 2)
	init = protowire.AppendTag(init, 2, protowire.VarintType) // FLOAT
	init = protowire.AppendVarint(init, 1)
	init = protowire.AppendTag(init, 8, protowire.BytesType) // name
	init = protowire.AppendString(init, "t")
	init = protowire.AppendTag(init, 9, protowire.BytesType) // raw_data
	init = protowire.AppendBytes(init, make([]byte, 16))
	g = protowire.AppendTag(g, graphInit, protowire.BytesType)
	g = protowire.AppendBytes(g, init)
	m := protowire.AppendTag(nil, modelIRVersion, protowire.VarintType)
	m = protowire.AppendVarint(m, 8)
	m = protowire.AppendTag(m, modelGraph, protowire.BytesType)
	return protowire.AppendBytes(m, g)
}

// Subgraphs are followed to maxDepth, and a model nesting deeper is
// refused, saying so, rather than followed frame after frame.
func TestSubgraphDepthBounded(t *testing.T) {
	b := nested(maxDepth)
	f, err := Open(formats.Source{R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil || len(f.Tensors) != 1 || len(f.Tensors[0].GatheredBy) != 1 {
		t.Fatalf("%d deep: %v", maxDepth, err)
	}
	b = nested(1000)
	if _, err := Open(formats.Source{R: bytes.NewReader(b), Size: int64(len(b))}); !errors.Is(err, formats.ErrUnsupported) || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("1000 deep: %v", err)
	}
}
