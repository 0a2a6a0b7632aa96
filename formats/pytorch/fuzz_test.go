package pytorch

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"

	"shark/internal/fuzzcap"
)

// seedCheckpoint is a small checkpoint from the Writer.
func seedCheckpoint(t testing.TB) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf, "archive")
	for _, s := range sample() {
		if err := w.Write(s.name, s.dtype, s.shape, bytes.NewReader(s.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostilePickles are issue 21's: _rebuild_tensor_v2 of a tuple nested a
// million deep (a stack overflow where it was printed), and of a tuple
// holding itself twice, 60 times over (2^60 leaves when printed).
func hostilePickles() [][]byte {
	rebuild := func(mid []byte) []byte {
		pkl := []byte("\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(N)")
		return append(append(pkl, mid...), "NNtR."...)
	}
	return [][]byte{rebuild(bytes.Repeat([]byte{opTuple1}, 1e6)), rebuild(bytes.Repeat([]byte{opDup, opTuple2}, 60))}
}

// dups is a pickle of n DUPs of None.
func dups(n int) []byte {
	return append(append([]byte{opProto, 2, opNone}, bytes.Repeat([]byte{opDup}, n)...), opStop)
}

// zipped is a checkpoint whose data.pkl is pkl, stored or deflated.
func zipped(t testing.TB, pkl []byte, method uint16) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: method})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pkl)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pickleBytes is how long a checkpoint's data.pkl says it is, within the
// limit: what an inflated pickle may cost to read.
func pickleBytes(b []byte) int {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return 0
	}
	n := 0
	for _, f := range zr.File {
		if f.UncompressedSize64 <= maxPickle {
			n = max(n, int(f.UncompressedSize64))
		}
	}
	return n
}

// FuzzPytorch opens checkpoints and reads every tensor: errors are fine,
// panics, hangs and allocations beyond the cap are not. The cap counts the
// pickle's inflated bytes, since those are read whole.
func FuzzPytorch(f *testing.F) {
	f.Add(seedCheckpoint(f))
	f.Add(stateDict([]entry{{name: "t", storage: "torch.FloatStorage", key: "0", numel: 4, shape: []int64{2, 2}}}))
	for _, pkl := range hostilePickles() {
		f.Add(zipped(f, pkl, zip.Store))
	}
	f.Add(zipped(f, dups(maxPickle+1<<20), zip.Deflate)) // 65 KB, refused unread
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b)+pickleBytes(b), func() {
			file, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return
			}
			for _, ft := range file.Tensors {
				if ft.Bytes > int64(len(b)) {
					t.Fatalf("tensor %q of %d bytes from a %d-byte file", ft.Name, ft.Bytes, len(b))
				}
				rc, err := ft.Open()
				if err != nil {
					continue
				}
				io.Copy(io.Discard, rc)
				rc.Close()
				ft.Verify()
			}
		})
	})
}

// FuzzPickle runs pickles alone, where the fuzzer's changes are not lost
// to the zip's checksums.
func FuzzPickle(f *testing.F) {
	f.Add(stateDict([]entry{{name: "t", storage: "torch.FloatStorage", key: "0", numel: 4, shape: []int64{2, 2}}}))
	f.Add([]byte("\x80\x02}q\x00(X\x01\x00\x00\x00a]q\x01(K\x01h\x01eu."))
	for _, pkl := range hostilePickles() {
		f.Add(pkl)
	}
	f.Add(dups(1 << 20))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
			m := newMachine(b, 0)
			root, err := m.run()
			// Each opcode builds at most one value or memo entry: a pickle
			// that builds more than its bytes grows faster than its input.
			if m.objects > len(b) {
				t.Fatalf("a %d-byte pickle built %d objects", len(b), m.objects)
			}
			if err != nil {
				if len(err.Error()) > 1000 {
					t.Fatalf("an error of %d bytes: %.200s", len(err.Error()), err)
				}
				return
			}
			w := &walker{meta: map[string]string{}, open: map[any]bool{}, budget: len(b) + 1}
			w.walk(root, "", 0)
		})
	})
}
