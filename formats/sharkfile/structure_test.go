package sharkfile

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"shark/formats"
)

// structured writes dense tensors a and b with structure n.
func structured(t *testing.T, n *formats.Node) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := w.WriteDense(name, formats.F32, []int64{2}, bytes.NewReader(make([]byte, 8))); err != nil {
			t.Fatal(err)
		}
	}
	w.SetStructure(n)
	err = w.Close()
	return buf.Bytes(), err
}

func tensorNode(name string) *formats.Node { return &formats.Node{Kind: formats.NodeTensor, Str: name} }

// The header carries the source's structure and gives it back through
// File; a file without one has none.
func TestHeaderStructure(t *testing.T) {
	n := &formats.Node{Kind: formats.NodeDict,
		Keys:  []*formats.Node{{Kind: formats.NodeStr, Str: "model"}, {Kind: formats.NodeStr, Str: "epoch"}},
		Items: []*formats.Node{{Kind: formats.NodeList, Items: []*formats.Node{tensorNode("b"), tensorNode("a")}}, {Kind: formats.NodeInt, Int: 3}}}
	for _, want := range []*formats.Node{n, nil} {
		b, err := structured(t, want)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		got := rd.File().Structure
		if want == nil {
			if got != nil || bytes.Contains(b, []byte("structure")) {
				t.Fatal("a structure where none was set")
			}
			continue
		}
		if got == nil || !reflect.DeepEqual(got.Flatten(), want.Flatten()) {
			t.Fatalf("structure came back as %v", got)
		}
	}
}

// A structure naming a tensor the file lacks is not written, and not read
// from a header made to hold one.
func TestHeaderStructureRefused(t *testing.T) {
	bad := &formats.Node{Kind: formats.NodeList, Items: []*formats.Node{tensorNode("a"), tensorNode("c")}}
	if _, err := structured(t, bad); !errors.Is(err, formats.ErrCorrupt) || !strings.Contains(err.Error(), `"c"`) {
		t.Fatalf("writing: %v", err)
	}
	good := &formats.Node{Kind: formats.NodeList, Items: []*formats.Node{tensorNode("a"), tensorNode("b")}}
	file, err := structured(t, good)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(s []any){
		"missing tensor":  func(s []any) { s[2].(map[string]any)["s"] = "c" },
		"count too large": func(s []any) { s[0].(map[string]any)["n"] = 3 },
		"unknown kind":    func(s []any) { s[1].(map[string]any)["k"] = "object" },
	}
	for name, edit := range cases {
		b := rewriteHeader(t, file, func(h map[string]any) { edit(h["structure"].([]any)) })
		if _, err := NewReader(bytes.NewReader(b), int64(len(b))); !errors.Is(err, formats.ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
