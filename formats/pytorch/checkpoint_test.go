package pytorch

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"shark/formats"
)

func openPT(t *testing.T, path string) *formats.File {
	t.Helper()
	f, osf, err := formats.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { osf.Close() })
	if f.Format != name {
		t.Fatalf("%s opened as %s", path, f.Format)
	}
	return f
}

// Every tensor of checkpoints written by PyTorch equals PyTorch's own bytes.
func TestRealCheckpoints(t *testing.T) {
	dir := real(t)
	for _, file := range []string{"sd.pt", "wrap.pt", "nested.pt", "half.pt", "bf16.pt", "views.pt", "shared.pt", "dtypes.pt", "param.pt"} {
		t.Run(file, func(t *testing.T) {
			want := expected(t, dir, file)
			f := openPT(t, filepath.Join(dir, file))
			if len(f.Tensors) != len(want) {
				var names []string
				for _, ft := range f.Tensors {
					names = append(names, ft.Name)
				}
				t.Fatalf("%d tensors %v, torch saved %d", len(f.Tensors), names, len(want))
			}
			for _, ft := range f.Tensors {
				w, ok := want[ft.Name]
				if !ok {
					t.Fatalf("tensor %q not among torch's", ft.Name)
				}
				rc, err := ft.Open()
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatalf("%s: %v", ft.Name, err)
				}
				if !bytes.Equal(got, w) || ft.Bytes != int64(len(w)) {
					t.Fatalf("%s (%s %v): %d bytes differ from torch's %d", ft.Name, ft.DType, ft.Shape, len(got), len(w))
				}
				if err := ft.Verify(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestWrapperAndMeta(t *testing.T) {
	f := openPT(t, filepath.Join(real(t), "wrap.pt"))
	if f.Meta["pytorch.wrapper"] != "state_dict" || f.Meta["epoch"] != "3" || f.Meta["lr"] != "0.5" {
		t.Fatalf("meta %v", f.Meta)
	}
	if _, err := f.Tensor("user_emb.weight"); err != nil {
		t.Fatal(err)
	}
	tb, _ := f.Tensor("user_emb.weight")
	if tb.DType != formats.F32 || len(tb.Shape) != 2 || tb.Shape[0] != 1000 || tb.Shape[1] != 16 {
		t.Fatalf("%s %v", tb.DType, tb.Shape)
	}
	if _, _, ok := tb.ReaderAt(); !ok {
		t.Fatal("a contiguous tensor is not read in place")
	}
}

// A flipped byte in a storage is caught by the record's CRC-32.
func TestStorageChecksum(t *testing.T) {
	src := filepath.Join(real(t), "views.pt")
	b, _ := os.ReadFile(src)
	f := openPT(t, src)
	base, _ := f.Tensor("base")
	_, off, _ := base.ReaderAt()
	b[off+17] ^= 0x40
	bad := filepath.Join(t.TempDir(), "bad.pt")
	os.WriteFile(bad, b, 0o644)
	g := openPT(t, bad)
	for _, n := range []string{"base", "t"} {
		tt, _ := g.Tensor(n)
		rc, _ := tt.Open()
		_, err := io.ReadAll(rc)
		if err == nil {
			err = tt.Verify()
		}
		if err == nil || !errorsIs(err, formats.ErrChecksum) {
			t.Fatalf("%s: %v", n, err)
		}
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	return c.r.ReadAt(p, off)
}

// Opening reads the zip's directory and the pickle, not the storages: a
// checkpoint of any size opens at once.
func TestOpenReadsNoStorage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, "big")
	const rows, dim = 1 << 16, 64 // 16 MiB a table
	for _, n := range []string{"a.weight", "b.weight", "c.weight", "d.weight"} {
		if err := w.Write(n, formats.F32, []int64{rows, dim}, io.LimitReader(zeros{}, rows*dim*4)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	cr := &countingReaderAt{r: f}
	file, err := Open(cr, st.Size())
	f.Close()
	if err != nil || len(file.Tensors) != 4 {
		t.Fatalf("%v", err)
	}
	if cr.n > 64<<10 {
		t.Fatalf("opening a %d-byte checkpoint read %d bytes", st.Size(), cr.n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
