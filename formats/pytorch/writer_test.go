package pytorch

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"shark/formats"
	"shark/internal/pyref"
)

type wtensor struct {
	name  string
	dtype formats.DType
	shape []int64
	data  []byte
}

func sample() []wtensor {
	f32 := make([]byte, 0, 4*300*7)
	for i := range 300 * 7 {
		f32 = binary.LittleEndian.AppendUint32(f32, math.Float32bits(float32(i)*0.25-100))
	}
	i64 := make([]byte, 0, 8*5)
	for _, v := range []int64{0, 1, -1, 1 << 40, math.MinInt64} {
		i64 = binary.LittleEndian.AppendUint64(i64, uint64(v))
	}
	return []wtensor{
		{"emb.weight", formats.F32, []int64{300, 7}, f32},
		{"half", formats.F16, []int64{3}, []byte{0, 0x3c, 0, 0xc0, 0x55, 0x35}},
		{"ids", formats.I64, []int64{5}, i64},
		{"codes", formats.U8, []int64{2, 3}, []byte{1, 2, 3, 250, 251, 252}},
		{"scalar", formats.F64, []int64{}, binary.LittleEndian.AppendUint64(nil, math.Float64bits(2.5))},
		{"empty", formats.F32, []int64{0, 4}, nil},
	}
}

func writeSample(t *testing.T, path string) {
	t.Helper()
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
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// PyTorch 1.13 opens what the Writer writes with weights_only=True, with no
// warning, and holds the same bytes; storages are 64-byte aligned.
func TestWriterTorchLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.pt")
	writeSample(t, path)
	out := pyref.RunWith(t, []string{"torch"}, `
import sys, json, warnings, zipfile, torch
warnings.simplefilter("error")
sd = torch.load(sys.argv[1], weights_only=True)
res = {}
for k, v in sd.items():
    b = v.contiguous().numpy().tobytes()
    res[k] = [str(v.dtype), list(v.shape), b.hex()]
z = zipfile.ZipFile(sys.argv[1])
import struct
raw = open(sys.argv[1], "rb").read()
def data_offset(i):
    n, e = struct.unpack("<HH", raw[i.header_offset + 26:i.header_offset + 30])
    return i.header_offset + 30 + n + e
res["__offsets"] = [data_offset(i) for i in z.infolist() if "/data/" in i.filename]
print(json.dumps(res))
`, path)
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	torchDType := map[formats.DType]string{formats.F32: "torch.float32", formats.F16: "torch.float16", formats.I64: "torch.int64", formats.U8: "torch.uint8", formats.F64: "torch.float64"}
	for _, s := range sample() {
		var v [3]json.RawMessage
		if err := json.Unmarshal(got[s.name], &v); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var dt, hexs string
		var shape []int64
		json.Unmarshal(v[0], &dt)
		json.Unmarshal(v[1], &shape)
		json.Unmarshal(v[2], &hexs)
		if dt != torchDType[s.dtype] || len(shape) != len(s.shape) || hexs != hexOf(s.data) {
			t.Fatalf("%s: torch has %s %v", s.name, dt, shape)
		}
	}
	var offs []int64
	json.Unmarshal(got["__offsets"], &offs)
	for _, o := range offs {
		if o%64 != 0 {
			t.Fatalf("a storage at %d, not 64-byte aligned", o)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// shark's reader reads back what its writer wrote.
func TestWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.pt")
	writeSample(t, path)
	f := openPT(t, path)
	for i, s := range sample() {
		ft := f.Tensors[i]
		rc, _ := ft.Open()
		b, err := io.ReadAll(rc)
		if err != nil || ft.Name != s.name || ft.DType != s.dtype || !bytes.Equal(b, s.data) {
			t.Fatalf("%s: %v %s %v", ft.Name, err, ft.DType, ft.Shape)
		}
	}
}
