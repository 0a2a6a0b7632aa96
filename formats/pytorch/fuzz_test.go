package pytorch

import (
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

// FuzzPytorch opens checkpoints and reads every tensor: errors are fine,
// panics, hangs and allocations beyond the cap are not.
func FuzzPytorch(f *testing.F) {
	f.Add(seedCheckpoint(f))
	f.Add(stateDict([]entry{{name: "t", storage: "torch.FloatStorage", key: "0", numel: 4, shape: []int64{2, 2}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
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
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
			root, err := unpickle(b, 0)
			if err != nil {
				return
			}
			w := &walker{meta: map[string]string{}, open: map[any]bool{}, budget: len(b) + 1}
			w.walk(root, "", 0)
		})
	})
}
