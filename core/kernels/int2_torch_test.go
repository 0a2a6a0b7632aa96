package kernels

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"shark/internal/pyref"
)

// int2Rows are rows for the 2-bit codec's checks against PyTorch: every
// width from 1 to 40 and some wide ones (widths that are not a multiple of
// 4 included), at scales from 1e-9 to 3e4, offset rows, constant rows,
// zeros of both signs, subnormal halves, and values at and past the edge
// of the half range.
func int2Rows() [][]float32 {
	r := rand.New(rand.NewPCG(21, 22))
	var rows [][]float32
	dims := []int{64, 65, 127, 128, 255, 1000}
	for d := 1; d <= 40; d++ {
		dims = append(dims, d)
	}
	for _, dim := range dims {
		for _, scale := range []float64{1e-9, 1e-6, 1e-3, 1, 300, 3e4} {
			row := make([]float32, dim)
			off := r.NormFloat64() * scale * float64(r.IntN(3))
			for i := range row {
				row[i] = float32(off + r.NormFloat64()*scale)
			}
			rows = append(rows, row)
		}
		same, zeros, neg, mixed := make([]float32, dim), make([]float32, dim), make([]float32, dim), make([]float32, dim)
		huge, hugeNeg := make([]float32, dim), make([]float32, dim)
		for i := range same {
			same[i] = -0.7
			neg[i] = negZero
			mixed[i] = []float32{0, negZero, 65504, -65504, 6e-8, -1e-5, 2.5, 1}[(i+dim)%8]
			// Past fp16's range: an infinite bias, or an infinite scale.
			huge[i] = 7e4 + float32(i%5)*1e3
			hugeNeg[i] = -7e4 + float32(i%3)*5e4
		}
		rows = append(rows, same, zeros, neg, mixed, huge, hugeNeg)
	}
	return rows
}

// writeFloats writes rows, each padded to a multiple of 4 values with
// copies of its first value, as little-endian float32: PyTorch's 2-bit
// prepack takes widths that are a multiple of 4 alone, and the copies
// change neither the row's minimum nor its maximum (nor which zero is
// first), so the codes of the row's own values are the same.
func writeFloats(t *testing.T, path string, rows [][]float32) {
	var b []byte
	for _, row := range rows {
		padded := (len(row) + 3) &^ 3
		for i := range padded {
			v := row[0]
			if i < len(row) {
				v = row[i]
			}
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// torchPrepack2 runs PyTorch's embedding_bag_2bit_prepack on each row (as
// writeFloats pads it) and returns its bytes, row after row.
func torchPrepack2(t *testing.T, rows [][]float32) []byte {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "rows.f32"), filepath.Join(dir, "packed.u8")
	writeFloats(t, in, rows)
	var dims []int
	for _, row := range rows {
		dims = append(dims, (len(row)+3)&^3)
	}
	js, _ := json.Marshal(dims)
	pyref.RunWith(t, []string{"torch", "numpy"}, `
import sys, json, numpy as np, torch
src, dst, dims = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
x = np.fromfile(src, dtype="<f4")
out, at, i = [], 0, 0
while i < len(dims):  # a run of rows of one width at a time
    j = i
    while j < len(dims) and dims[j] == dims[i]:
        j += 1
    d, k = dims[i], j - i
    rows = torch.from_numpy(x[at:at + d * k].copy()).reshape(k, d)
    out.append(torch.ops.quantized.embedding_bag_2bit_prepack(rows).numpy().tobytes())
    at, i = at + d * k, j
open(dst, "wb").write(b"".join(out))
`, in, out, string(js))
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// QuantizeRow(2, ...) writes PyTorch's embedding_bag_2bit_prepack bytes:
// the same length, codes four to a byte from the low bits up, then fp16
// scale and bias. For a width that is not a multiple of 4, PyTorch's row is
// that of the row padded with copies of its first value; shark leaves the
// unused code slots of the last byte zero, so those bits alone are masked.
func TestInt2MatchesTorchPrepack(t *testing.T) {
	rows := int2Rows()
	want := torchPrepack2(t, rows)
	eachSet(t, func(t *testing.T) {
		at := 0
		for k, row := range rows {
			n := RowBytes(2, len(row))
			if at+n > len(want) {
				t.Fatalf("PyTorch wrote %d bytes, fewer than the rows need", len(want))
			}
			w := append([]byte(nil), want[at:at+n]...)
			at += n
			if r := len(row) % 4; r != 0 {
				w[n-5] &= byte(1)<<(2*r) - 1
			}
			got := make([]byte, n)
			QuantizeRow(2, got, row)
			if string(got) != string(w) {
				t.Fatalf("row %d (dim %d, %v...): shark % x, PyTorch % x", k, len(row), row[:min(len(row), 8)], got, w)
			}
		}
		if at != len(want) {
			t.Fatalf("PyTorch wrote %d bytes, the rows take %d", len(want), at)
		}
	})
}

// A table of 2- or 4-bit rows and the bags pooled from it, for PyTorch's
// embedding_bag_2bit_rowwise_offsets (or 4bit).
type nbitTable struct {
	bits, dim int
	packed    []byte  // QuantizeRow(bits) of each row, row after row
	indices   []int64 // the bags' rows, bag after bag
	offsets   []int64 // where each bag starts in indices
}

// newNBitTable makes n rows (some of int2Rows's kinds among random ones)
// and bags of 0 to 60 of them.
func newNBitTable(r *rand.Rand, bits, dim, n, bags int, kinds [][]float32) nbitTable {
	tb := nbitTable{bits: bits, dim: dim}
	rb := RowBytes(bits, dim)
	for k := range n {
		row := randRow(r, dim)
		if k%17 == 3 {
			row = append(append([]float32(nil), kinds[k%40]...), make([]float32, dim)...)[:dim]
		}
		b := make([]byte, rb)
		QuantizeRow(bits, b, row)
		tb.packed = append(tb.packed, b...)
	}
	for b := range bags {
		tb.offsets = append(tb.offsets, int64(len(tb.indices)))
		size := []int{0, 1, 1, 2, 3, 7, 20, 60}[b%8]
		for range size {
			tb.indices = append(tb.indices, int64(r.IntN(n)))
		}
	}
	return tb
}

// width is the width of PyTorch's pooled rows: the code bytes times the
// codes a byte, ceil(dim/4)*4 for 2 bits.
func (tb nbitTable) width() int { return 8 / tb.bits * (RowBytes(tb.bits, tb.dim) - 4) }

// row returns the encoded row r.
func (tb nbitTable) row(r int64) []byte {
	rb := RowBytes(tb.bits, tb.dim)
	return tb.packed[int(r)*rb : int(r+1)*rb]
}

// torchPool runs PyTorch's embedding_bag_2bit_rowwise_offsets (or 4bit;
// sum mode, no per-sample weights) over each table's rows and bags, and
// returns each table's pooled output, bags x width() values.
func torchPool(t *testing.T, tables []nbitTable) [][]float32 {
	dir := t.TempDir()
	var spec []map[string]any
	for k, tb := range tables {
		w := filepath.Join(dir, fmt.Sprintf("w%d", k))
		if err := os.WriteFile(w, tb.packed, 0o644); err != nil {
			t.Fatal(err)
		}
		spec = append(spec, map[string]any{"w": w, "bits": tb.bits, "width": RowBytes(tb.bits, tb.dim), "indices": tb.indices, "offsets": tb.offsets, "out": w + ".out"})
	}
	js, _ := json.Marshal(spec)
	specPath := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, js, 0o644); err != nil {
		t.Fatal(err)
	}
	pyref.RunWith(t, []string{"torch", "numpy"}, `
import sys, json, numpy as np, torch
ops = {2: torch.ops.quantized.embedding_bag_2bit_rowwise_offsets, 4: torch.ops.quantized.embedding_bag_4bit_rowwise_offsets}
for s in json.load(open(sys.argv[1])):
    w = torch.from_numpy(np.fromfile(s["w"], dtype=np.uint8).reshape(-1, s["width"]))
    got = ops[s["bits"]](
        w, torch.tensor(s["indices"], dtype=torch.int64), torch.tensor(s["offsets"], dtype=torch.int64),
        False, 0, False, None, None, False)
    got.numpy().astype("<f4").tofile(s["out"])
`, specPath)
	var out [][]float32
	for _, s := range spec {
		b, err := os.ReadFile(s["out"].(string))
		if err != nil {
			t.Fatal(err)
		}
		f := make([]float32, len(b)/4)
		for i := range f {
			f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		out = append(out, f)
	}
	return out
}

// bag returns the rows of bag b.
func (tb nbitTable) bag(b int) []int64 {
	end := int64(len(tb.indices))
	if b+1 < len(tb.offsets) {
		end = tb.offsets[b+1]
	}
	return tb.indices[tb.offsets[b]:end]
}

// torchOrder is PyTorch's pooling of one bag written out as ATen's
// embedding_lookup_fallback_impl (this build has no FBGEMM) and FBGEMM's
// reference loop have it, value by value:
//
//	out[j] = fma(scale, q[j], out[j] + bias)
//
// computed in float64 (C's fma of a float and an integer code) and stored
// as float32.
func torchOrder(tb nbitTable, b int) []float32 {
	out := make([]float32, tb.width())
	per := 8 / tb.bits
	for _, r := range tb.bag(b) {
		row := tb.row(r)
		scale, bias := ScaleBias(tb.bits, tb.dim, row)
		for j := range out {
			q := row[j/per] >> (tb.bits * (j % per)) & (1<<tb.bits - 1)
			out[j] = float32(math.FMA(float64(scale), float64(q), float64(out[j]+bias)))
		}
	}
	return out
}

// PyTorch's 2-bit operator serves QuantizeRow's rows: a bag of one row is
// DequantizeRow's values bit for bit; every bag is PyTorch's own order of
// roundings (torchOrder) and AddRowNBitTorch's pooling bit for bit; and
// shark's order (AddRowNBit: each row decoded, then added) lies within a
// rounding per row of it. The same for 4-bit rows and PyTorch's 4-bit
// operator.
func TestInt2TorchPoolsDequantized(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	kinds := int2Rows()
	var tables []nbitTable
	for _, dim := range []int{1, 3, 4, 5, 8, 13, 16, 32, 64, 67} {
		tables = append(tables, newNBitTable(r, 2, dim, 300, 200, kinds))
	}
	for _, dim := range []int{1, 8, 13, 64} {
		tables = append(tables, newNBitTable(r, 4, dim, 300, 200, kinds))
	}
	pooled := torchPool(t, tables)
	eachSet(t, func(t *testing.T) {
		var values, differ [5]int
		for k, tb := range tables {
			width := tb.width()
			if len(pooled[k]) != len(tb.offsets)*width {
				t.Fatalf("%d bits, dim %d: PyTorch gave %d values, want %d bags of %d", tb.bits, tb.dim, len(pooled[k]), len(tb.offsets), width)
			}
			for b := range tb.offsets {
				differ[tb.bits] += checkBag(t, tb, b, pooled[k][b*width:(b+1)*width])
				values[tb.bits] += tb.dim
			}
		}
		t.Logf("shark's order of additions (AddRowNBit) differs from PyTorch's in %d of %d pooled 2-bit values, %d of %d 4-bit",
			differ[2], values[2], differ[4], values[4])
	})
}

// sameValue reports whether a and b are the same bits, or both NaN: a NaN
// that arithmetic makes has the CPU's own bits (negative on amd64, where
// PyTorch ran, positive on arm64, where the test may run).
func sameValue(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// checkBag compares PyTorch's pooled bag b (got, its padded width) with
// torchOrder and AddRowNBitTorch bit for bit, DequantizeRow for bags of one
// row, and AddRowNBit's sum within a rounding per row; it returns how many
// of AddRowNBit's values differ from PyTorch's.
func checkBag(t *testing.T, tb nbitTable, b int, got []float32) (differ int) {
	t.Helper()
	dim, ids := tb.dim, tb.bag(b)
	plain := torchOrder(tb, b)
	exact := make([]float32, len(got))
	for _, r := range ids {
		AddRowNBitTorch(tb.bits, exact[:dim], tb.row(r))
	}
	for j := range got {
		if !sameValue(got[j], plain[j]) || (j < dim && !sameValue(got[j], exact[j])) {
			t.Fatalf("%d bits, dim %d, bag %d, value %d: PyTorch %v, its loop %v, AddRowNBitTorch %v", tb.bits, dim, b, j, got[j], plain[j], exact[j])
		}
	}
	sum := make([]float32, dim)
	one := make([]float32, dim)
	var bound float64 // the largest decoded value's magnitude
	for _, r := range ids {
		DequantizeRow(tb.bits, one, tb.row(r))
		AddRowNBit(tb.bits, sum, tb.row(r))
		for _, v := range one {
			bound = max(bound, math.Abs(float64(v)))
		}
	}
	if len(ids) == 1 {
		for j := range one {
			if !sameValue(got[j], one[j]) {
				t.Fatalf("%d bits, dim %d, bag %d (row %d), value %d: PyTorch %v, DequantizeRow %v", tb.bits, dim, b, ids[0], j, got[j], one[j])
			}
		}
	}
	// Each order rounds two sums a row, each by at most half an ulp of a
	// partial sum, itself at most len(ids)*bound.
	lim := 2 * float64(len(ids)) * float64(len(ids)) * bound * 0x1p-24
	for j := range sum {
		if d := math.Abs(float64(sum[j]) - float64(got[j])); d > lim {
			t.Fatalf("%d bits, dim %d, bag %d, value %d: AddRowNBit %v, PyTorch %v (bound %g)", tb.bits, dim, b, j, sum[j], got[j], lim)
		}
		if math.Float32bits(sum[j]) != math.Float32bits(got[j]) {
			differ++
		}
	}
	return differ
}
