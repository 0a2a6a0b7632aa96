package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"shark/formats"
	"shark/internal/fuzzcap"
	"shark/internal/pyref"
)

func spec(name string, d formats.DType, shape []int64, data []byte) Spec {
	return Spec{Name: name, DType: d, Shape: shape, Data: func() (io.Reader, error) { return bytes.NewReader(data), nil }}
}

func sample(t testing.TB) ([]byte, map[string][]byte) {
	data := map[string][]byte{}
	var specs []Spec
	for i, d := range []formats.DType{formats.F32, formats.F16, formats.BF16, formats.I8, formats.U8, formats.I32, formats.I64, formats.F64} {
		b := make([]byte, 6*d.Size())
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		name := "t_" + string(d)
		data[name] = b
		specs = append(specs, spec(name, d, []int64{2, 3}, b))
	}
	specs = append(specs, spec("scalar", formats.F32, []int64{}, []byte{0, 0, 0x80, 0x3f}))
	data["scalar"] = []byte{0, 0, 0x80, 0x3f}
	var buf bytes.Buffer
	if err := Write(&buf, specs, map[string]string{"format": "pt", "who": "shark"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), data
}

func TestRoundTrip(t *testing.T) {
	b, data := sample(t)
	if n := binary.LittleEndian.Uint64(b); (8+n)%8 != 0 {
		t.Fatal("data not 8-aligned")
	}
	f, err := formats.OpenReaderAt(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != "safetensors" || f.Meta["who"] != "shark" || len(f.Tensors) != len(data) {
		t.Fatalf("opened %+v", f)
	}
	for _, tn := range f.Tensors {
		rc, _ := tn.Open()
		got, _ := io.ReadAll(rc)
		if !bytes.Equal(got, data[tn.Name]) {
			t.Fatalf("%s differs", tn.Name)
		}
	}
}

// An independent reader: Python's json and NumPy's frombuffer.
func TestPythonReadsShark(t *testing.T) {
	b, _ := sample(t)
	p := filepath.Join(t.TempDir(), "x.safetensors")
	os.WriteFile(p, b, 0o644)
	out := pyref.Run(t, `
import json, struct, sys, numpy as np
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
h = json.loads(raw[8:8+n])
meta = h.pop('__metadata__')
base = 8 + n
s = h['scalar']; v = np.frombuffer(raw[base+s['data_offsets'][0]:base+s['data_offsets'][1]], '<f4')
f = h['t_F16']; w = np.frombuffer(raw[base+f['data_offsets'][0]:base+f['data_offsets'][1]], '<f2').reshape(f['shape'])
print(meta['who'], len(h), float(v[0]), w.shape)
`, p)
	if out != "shark 9 1.0 (2, 3)\n" {
		t.Fatalf("python read %q", out)
	}
}

func TestHostile(t *testing.T) {
	mk := func(hdr string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
		b = append(b, hdr...)
		return append(b, make([]byte, data)...)
	}
	cases := map[string]struct {
		b    []byte
		kind error
	}{
		"header past end":  {binary.LittleEndian.AppendUint64(nil, 1<<40), formats.ErrTooLarge},
		"offsets past end": {mk(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8), formats.ErrCorrupt},
		"size mismatch":    {mk(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}`, 16), formats.ErrCorrupt},
		"huge shape":       {mk(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}`, 16), formats.ErrTooLarge},
		"overlap":          {mk(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, 16), formats.ErrCorrupt},
		"negative":         {mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 16), formats.ErrCorrupt},
		"dtype":            {mk(`{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}`, 8), formats.ErrUnsupported},
		"not json":         {mk(`{"a":`, 0), formats.ErrCorrupt},
		"bad meta":         {mk(`{"__metadata__":{"a":1}}`, 0), formats.ErrCorrupt},
		"extra key":        {mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), formats.ErrCorrupt},
	}
	for name, c := range cases {
		_, err := Open(bytes.NewReader(c.b), int64(len(c.b)))
		var fe *formats.Error
		if err == nil || !errors.As(err, &fe) || !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want a located %v", name, err, c.kind)
		}
	}
}

func FuzzSafetensors(f *testing.F) {
	b, _ := sample(f)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
			file, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return
			}
			var specs []Spec
			for _, tn := range file.Tensors {
				rc, _ := tn.Open()
				data, err := io.ReadAll(rc)
				if err != nil || int64(len(data)) != tn.Bytes {
					t.Fatalf("%s: accepted but unreadable", tn.Name)
				}
				specs = append(specs, spec(tn.Name, tn.DType, tn.Shape, data))
			}
			var buf bytes.Buffer
			if err := Write(&buf, specs, file.Meta); err != nil {
				t.Fatal(err)
			}
			again, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil || len(again.Tensors) != len(file.Tensors) {
				t.Fatalf("re-encoded file: %v", err)
			}
		})
	})
}
