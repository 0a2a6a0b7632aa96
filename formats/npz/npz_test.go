package npz

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"shark/formats"
	_ "shark/formats/npy"
	"shark/internal/fuzzcap"
	"shark/internal/pyref"
)

func write(t testing.TB, deflate bool, arrs map[string][]float32) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf, deflate)
	for _, name := range []string{"a", "b", "c"} {
		if v, ok := arrs[name]; ok {
			if err := w.Write(name, formats.F32, []int64{int64(len(v))}, bytes.NewReader(formats.EncodeFloat32(nil, v))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	arrs := map[string][]float32{"a": {1, 2, 3}, "b": {}, "c": make([]float32, 5000)}
	for _, deflate := range []bool{false, true} {
		b := write(t, deflate, arrs)
		f, err := formats.OpenReaderAt(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != "npz" || len(f.Tensors) != 3 {
			t.Fatalf("opened %+v", f)
		}
		for _, tn := range f.Tensors {
			got, err := tn.Float32s()
			if err != nil || len(got) != len(arrs[tn.Name]) {
				t.Fatalf("%s: %v %v", tn.Name, got, err)
			}
			if _, _, ok := tn.ReaderAt(); ok == deflate {
				t.Fatalf("%s: random access %v with deflate %v", tn.Name, ok, deflate)
			}
		}
	}
}

func TestNumPyInterop(t *testing.T) {
	dir := t.TempDir()
	pyref.Run(t, `
import numpy as np, sys, os
d = sys.argv[1]
rng = np.random.default_rng(5)
a = rng.standard_normal((300, 16)).astype(np.float32)
b = rng.integers(0, 1000, size=(300,)).astype(np.int64)
c = rng.standard_normal((4,)).astype(np.float16)
np.savez(os.path.join(d, 'plain.npz'), emb=a, ids=b, h=c)
np.savez_compressed(os.path.join(d, 'zipped.npz'), emb=a, ids=b, h=c)
for n, x in (('emb', a), ('ids', b), ('h', c)):
    open(os.path.join(d, n + '.raw'), 'wb').write(x.tobytes())
`, dir)
	for _, name := range []string{"plain.npz", "zipped.npz"} {
		f, osf, err := formats.OpenFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, tn := range f.Tensors {
			rc, _ := tn.Open()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("%s %s: %v", name, tn.Name, err)
			}
			want, _ := os.ReadFile(filepath.Join(dir, tn.Name+".raw"))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s %s: differs from NumPy", name, tn.Name)
			}
		}
		osf.Close()
	}
	// NumPy reads shark's .npz, stored and deflated.
	for i, deflate := range []bool{false, true} {
		p := filepath.Join(dir, []string{"s.npz", "d.npz"}[i])
		os.WriteFile(p, write(t, deflate, map[string][]float32{"a": {1.5, -2}, "c": {7}}), 0o644)
		out := pyref.Run(t, `
import numpy as np, sys
z = np.load(sys.argv[1])
print(sorted(z.files), z['a'].tolist(), z['c'].dtype)
`, p)
		if out != "['a', 'c'] [1.5, -2.0] float32\n" {
			t.Fatalf("numpy read %q", out)
		}
	}
}

func TestHostile(t *testing.T) {
	// A member that is not an array.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("readme.txt")
	w.Write([]byte("hello"))
	zw.Close()
	if _, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len())); !errors.Is(err, formats.ErrCorrupt) {
		t.Fatalf("non-npy member: %v", err)
	}
	// A truncated archive.
	b := write(t, false, map[string][]float32{"a": {1, 2, 3}})
	for n := 0; n < len(b); n++ {
		f, err := Open(bytes.NewReader(b[:n]), int64(n))
		if err == nil {
			for _, tn := range f.Tensors {
				if _, err := tn.Float32s(); err == nil && n < len(b)-22 {
					t.Fatalf("truncated to %d: read", n)
				}
			}
		}
	}
	// Any byte of a deflated archive altered: a read either fails or returns
	// the original values (the byte was in a field nobody reads, such as a
	// timestamp); the member's CRC-32 is checked at the end of the stream.
	vals := make([]float32, 1000)
	for i := range vals {
		vals[i] = float32(i % 7)
	}
	d := write(t, true, map[string][]float32{"c": vals})
	failed := 0
	for off := range d {
		m := bytes.Clone(d)
		m[off] ^= 0x41
		f, err := Open(bytes.NewReader(m), int64(len(m)))
		if err != nil {
			failed++
			continue
		}
		for _, tn := range f.Tensors {
			got, err := tn.Float32s()
			if err != nil {
				failed++
				continue
			}
			for i := range vals {
				if got[i] != vals[i] {
					t.Fatalf("flip at %d: wrong value read without an error", off)
				}
			}
		}
	}
	if failed < len(d)/2 {
		t.Fatalf("only %d of %d flips detected", failed, len(d))
	}
}

func FuzzNpz(f *testing.F) {
	f.Add(write(f, false, map[string][]float32{"a": {1, 2}}))
	f.Add(write(f, true, map[string][]float32{"a": {1, 2}, "b": {3}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
			file, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return
			}
			for _, tn := range file.Tensors {
				rc, err := tn.Open()
				if err != nil {
					continue
				}
				data, err := io.ReadAll(io.LimitReader(rc, 1<<24))
				rc.Close()
				if err == nil && int64(len(data)) != tn.Bytes && tn.Bytes < 1<<24 {
					t.Fatalf("%s: read %d bytes without error, shape says %d", tn.Name, len(data), tn.Bytes)
				}
			}
		})
	})
}
