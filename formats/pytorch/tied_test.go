package pytorch

import (
	"bytes"
	"errors"
	"testing"

	"shark/formats"
)

// A tensor written as another's alias is the same storage and view in the
// checkpoint: the reader marks it SameAs, and reads the same data.
func TestWriteAliasReadsTied(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, "archive")
	data := []byte("0123456789abcdef")
	for _, n := range []string{"a", "c"} {
		if err := w.Write(n, formats.F32, []int64{2, 2}, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteAlias("b", "a"); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAlias("d", "nothing"); !errors.Is(err, formats.ErrCorrupt) {
		t.Fatalf("an alias of nothing: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	same := map[string]string{}
	for _, ft := range f.Tensors {
		same[ft.Name] = ft.SameAs
	}
	if same["a"] != "" || same["b"] != "a" || same["c"] != "" || len(same) != 3 {
		t.Fatalf("SameAs %q: want b the same as a alone (c has its own storage)", same)
	}
	b, _ := f.Tensor("b")
	got, err := b.Float32s()
	if err != nil || len(got) != 4 {
		t.Fatal(got, err)
	}
}
