package formats

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func sampleStructure() *Node {
	str := func(s string) *Node { return &Node{Kind: NodeStr, Str: s} }
	return &Node{Kind: NodeDict, Keys: []*Node{str("model"), str("opt"), {Kind: NodeInt, Int: -3}, {Kind: NodeNone}},
		Items: []*Node{
			{Kind: NodeOrderedDict, Keys: []*Node{str("w")}, Items: []*Node{{Kind: NodeTensor, Str: "model.w"}}},
			{Kind: NodeList, Items: []*Node{
				{Kind: NodeTuple, Items: []*Node{{Kind: NodeFloat, Float: math.Copysign(0, -1)}, {Kind: NodeBool, Bool: true}}},
				{Kind: NodeFloat, Float: math.Float64frombits(0x7ff8000000000123)},
				{Kind: NodeGlobal, Str: "torch.float32"},
				{Kind: NodeList},
			}},
			str("x"),
			{Kind: NodeNone},
		}}
}

// A structure survives its flat form exactly, floats' bits included.
func TestStructureFlatRoundTrip(t *testing.T) {
	n := sampleStructure()
	fl := n.Flatten()
	back, err := Unflatten(fl)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Flatten(), fl) {
		t.Fatalf("%v\n%v", back.Flatten(), fl)
	}
	if got := back.Items[1].Items[0].Items[0].Float; math.Float64bits(got) != 1<<63 {
		t.Fatalf("-0 came back as %v", got)
	}
	if got := back.Tensors(); len(got) != 1 || got[0] != "model.w" {
		t.Fatalf("tensors %v", got)
	}
}

// A flat structure that does not hold together is refused, never trusted:
// counts past the nodes left, unknown kinds, containers as keys, leaves
// with children, trailing nodes, nesting past the limit.
func TestStructureFlatRefused(t *testing.T) {
	deep := []FlatNode{}
	for range MaxStructureDepth + 2 {
		deep = append(deep, FlatNode{Kind: "list", Len: 1})
	}
	deep = append(deep, FlatNode{Kind: "none"})
	cases := map[string][]FlatNode{
		"count past the end": {{Kind: "list", Len: 1 << 40}, {Kind: "int"}},
		"negative count":     {{Kind: "list", Len: -1}},
		"dict count":         {{Kind: "dict", Len: 2}, {Kind: "str"}, {Kind: "int"}},
		"unknown kind":       {{Kind: "object"}},
		"container key":      {{Kind: "dict", Len: 1}, {Kind: "list"}, {Kind: "int"}},
		"tensor key":         {{Kind: "dict", Len: 1}, {Kind: "tensor", Str: "w"}, {Kind: "int"}},
		"leaf with children": {{Kind: "int", Len: 1}, {Kind: "int"}},
		"trailing nodes":     {{Kind: "int"}, {Kind: "int"}},
		"too deep":           deep,
	}
	for name, fl := range cases {
		if _, err := Unflatten(fl); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A structure of more values than a header should carry is refused before
// anything is built of it.
func TestStructureTooLarge(t *testing.T) {
	fl := make([]FlatNode, MaxStructureNodes+1)
	if _, err := Unflatten(fl); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
}
