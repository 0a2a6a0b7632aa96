package sharkfile

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
)

// aliased writes dense d, table t, and "dd" and "tt", the same as each.
func aliased(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	tb := &core.Table{R: 300, D: 5, Data: make([]float32, 1500)}
	tiers := make([]core.Tier, 300)
	for i := range tb.Data {
		tb.Data[i] = float32(i%17) - 8
	}
	for i := range tiers {
		tiers[i] = core.Tier(i % narrowTiers)
	}
	steps := []func() error{
		func() error { return w.WriteDense("d", formats.U8, []int64{7}, strings.NewReader("seven b")) },
		func() error { return w.WriteTable("t", tb, tiers, TableInfo{SourceDType: formats.F32}, nil) },
		func() error { return w.WriteAlias("dd", "d") },
		func() error { return w.WriteAlias("tt", "t") },
		w.Close,
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func readAll(t *testing.T, ft *formats.Tensor) []byte {
	t.Helper()
	rc, err := ft.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A tensor written as another's alias has no blocks of its own and reads
// back as that one's data, under its name, marked SameAs.
func TestAliasRoundTrip(t *testing.T) {
	b := aliased(t)
	rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(); err != nil {
		t.Fatal(err)
	}
	f := rd.File()
	byName := map[string]*formats.Tensor{}
	for _, ft := range f.Tensors {
		byName[ft.Name] = ft
	}
	for alias, of := range map[string]string{"dd": "d", "tt": "t"} {
		a, o := byName[alias], byName[of]
		if a == nil || a.SameAs != of || a.DType != o.DType || !bytes.Equal(readAll(t, a), readAll(t, o)) {
			t.Fatalf("%s: %+v, not the same as %s", alias, a, of)
		}
	}
	if len(rd.Tables()) != 1 {
		t.Fatalf("%d tables", len(rd.Tables()))
	}
	var w Writer
	w.names = map[string]bool{}
	if err := w.WriteAlias("x", "nothing"); !errors.Is(err, formats.ErrNotFound) {
		t.Fatalf("an alias of nothing: %v", err)
	}
}

// An alias that names no earlier tensor, or another alias, or holds blocks,
// or differs from its tensor, is refused.
func TestAliasRefused(t *testing.T) {
	b := aliased(t)
	entry := func(h map[string]any, name string) map[string]any {
		for _, e := range h["tensors"].([]any) {
			if m := e.(map[string]any); m["name"] == name {
				return m
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	for what, edit := range map[string]func(h map[string]any){
		"no earlier tensor":   func(h map[string]any) { entry(h, "tt")["same_as"] = "zz" },
		"of an alias":         func(h map[string]any) { entry(h, "tt")["same_as"] = "dd" },
		"blocks of its own":   func(h map[string]any) { entry(h, "dd")["data"] = entry(h, "d")["data"] },
		"a different shape":   func(h map[string]any) { entry(h, "dd")["shape"] = []any{6} },
		"a different dtype":   func(h map[string]any) { entry(h, "tt")["dtype"] = "float16" },
		"before its original": func(h map[string]any) { ts := h["tensors"].([]any); ts[0], ts[2] = ts[2], ts[0] },
	} {
		bad := rewriteHeader(t, b, edit)
		if _, err := NewReader(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, formats.ErrCorrupt) {
			t.Errorf("%s: %v", what, err)
		}
	}
}
