package npy

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"shark/formats"
	"shark/internal/fuzzcap"
	"shark/internal/pyref"
)

func encode(t testing.TB, d formats.DType, shape []int64, data []byte) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, d, shape, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t testing.TB, b []byte) (*Header, []byte) {
	t.Helper()
	h, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := h.Tensor("x", bytes.NewReader(b), 0).Open()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return h, got
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, d := range []formats.DType{formats.F32, formats.F16, formats.F64, formats.I8, formats.U8, formats.I32, formats.I64} {
		for _, shape := range [][]int64{{}, {0}, {7}, {3, 5}, {2, 3, 4}, {1000, 3}} {
			_, nb, _ := formats.ShapeBytes(shape, d)
			data := make([]byte, nb)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			b := encode(t, d, shape, data)
			if (len(b)-int(nb))%64 != 0 {
				t.Fatalf("%s %v: data not 64-aligned", d, shape)
			}
			h, got := readAll(t, b)
			if h.DType != d || len(h.Shape) != len(shape) || !bytes.Equal(got, data) {
				t.Fatalf("%s %v: got %s %v", d, shape, h.DType, h.Shape)
			}
		}
	}
	if _, err := HeaderBytes(formats.BF16, []int64{1}); !errors.Is(err, formats.ErrUnsupported) {
		t.Fatalf("bf16 npy: %v", err)
	}
}

// NumPy writes every dtype shark reads, in both byte orders and all three
// format versions; shark must read the same values NumPy holds.
func TestReadsNumPy(t *testing.T) {
	dir := t.TempDir()
	pyref.Run(t, `
import numpy as np, sys, os
d = sys.argv[1]
rng = np.random.default_rng(3)
base = rng.standard_normal((37, 5)) * 100
for code in ['<f4', '>f4', '<f2', '>f2', '<f8', '>f8', '|i1', '|u1', '<i4', '>i4', '<i8', '>i8']:
    a = base.astype(code)
    tag = code.replace('<', 'le').replace('>', 'be').replace('|', '')
    np.save(os.path.join(d, tag + '.npy'), a)
    open(os.path.join(d, tag + '.raw'), 'wb').write(a.astype(a.dtype.newbyteorder('<')).tobytes())
np.save(os.path.join(d, 'scalar.npy'), np.float32(2.5))
open(os.path.join(d, 'scalar.raw'), 'wb').write(np.float32(2.5).tobytes())
np.save(os.path.join(d, 'empty.npy'), np.zeros((0, 4), np.float32))
open(os.path.join(d, 'empty.raw'), 'wb').write(b'')
with open(os.path.join(d, 'v2.npy'), 'wb') as f:
    np.lib.format.write_array(f, base.astype('<f4'), version=(2, 0))
open(os.path.join(d, 'v2.raw'), 'wb').write(base.astype('<f4').tobytes())
with open(os.path.join(d, 'v3.npy'), 'wb') as f:
    np.lib.format.write_array(f, base.astype('<f4'), version=(3, 0))
open(os.path.join(d, 'v3.raw'), 'wb').write(base.astype('<f4').tobytes())
`, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
	if len(files) != 16 {
		t.Fatalf("numpy wrote %d files", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		want, _ := os.ReadFile(f[:len(f)-4] + ".raw")
		_, got := readAll(t, b)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: data differs from NumPy's", filepath.Base(f))
		}
	}
}

// NumPy reads what shark writes.
func TestNumPyReadsShark(t *testing.T) {
	dir := t.TempDir()
	vals := []float32{1, -2.5, 3.25, 65504, 1e-3, 0}
	raw := formats.EncodeFloat32(nil, vals)
	os.WriteFile(filepath.Join(dir, "f32.npy"), encode(t, formats.F32, []int64{2, 3}, raw), 0o644)
	h16 := []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c} // 1, -2, inf
	os.WriteFile(filepath.Join(dir, "f16.npy"), encode(t, formats.F16, []int64{3}, h16), 0o644)
	out := pyref.Run(t, `
import numpy as np, sys, os
a = np.load(os.path.join(sys.argv[1], 'f32.npy'))
b = np.load(os.path.join(sys.argv[1], 'f16.npy'))
print(a.dtype, a.shape, a.tobytes().hex(), b.dtype, b.shape, b.tolist())
`, dir)
	want := "float32 (2, 3) " + bytesHex(raw) + " float16 (3,) [1.0, -2.0, inf]\n"
	if out != want {
		t.Fatalf("numpy read\n%q\nwant\n%q", out, want)
	}
}

func bytesHex(b []byte) string {
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hx[c>>4], hx[c&15])
	}
	return string(out)
}

func TestHostile(t *testing.T) {
	good := encode(t, formats.F32, []int64{4, 2}, make([]byte, 32))
	hdr := func(dict string) []byte {
		b := append([]byte(Magic), 1, 0, byte(len(dict)), byte(len(dict)>>8))
		return append(b, dict...)
	}
	cases := map[string]struct {
		b    []byte
		kind error
	}{
		"huge shape":      {hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000), }\n"), formats.ErrTooLarge},
		"overflow shape":  {hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 9223372036854775807), }\n"), formats.ErrTooLarge},
		"data past end":   {good[:len(good)-1], formats.ErrTooLarge},
		"header past end": {good[:20], formats.ErrTooLarge},
		"fortran":         {hdr("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n"), formats.ErrCorrupt},
		"object dtype":    {hdr("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n"), formats.ErrCorrupt},
		"negative dim":    {hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n"), formats.ErrCorrupt},
		"garbage":         {hdr("not a dict at all"), formats.ErrCorrupt},
		"version 9":       {append([]byte(Magic), 9, 0, 0, 0), formats.ErrUnsupported},
		"short":           {[]byte(Magic), formats.ErrCorrupt},
	}
	for name, c := range cases {
		_, err := ReadHeader(bytes.NewReader(c.b), int64(len(c.b)))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		var fe *formats.Error
		if !errors.As(err, &fe) || !errors.Is(err, c.kind) {
			t.Errorf("%s: error %v is not a located %v", name, err, c.kind)
		}
	}
}

func FuzzNpy(f *testing.F) {
	f.Add(encode(f, formats.F32, []int64{3, 2}, make([]byte, 24)))
	f.Add(encode(f, formats.I64, []int64{2}, make([]byte, 16)))
	f.Add(encode(f, formats.F16, []int64{}, make([]byte, 2)))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
			h, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return
			}
			rc, _ := h.Tensor("x", bytes.NewReader(b), 0).Open()
			data, err := io.ReadAll(rc)
			if err != nil || int64(len(data)) != h.Bytes {
				t.Fatalf("header accepted but data unreadable: %d of %d bytes, %v", len(data), h.Bytes, err)
			}
			// Re-encode little-endian and decode again: the same array.
			again := encode(t, h.DType, h.Shape, data)
			h2, data2 := readAll(t, again)
			if h2.DType != h.DType || !bytes.Equal(data, data2) || len(h2.Shape) != len(h.Shape) {
				t.Fatal("re-encoded array differs")
			}
		})
	})
}
