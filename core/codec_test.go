package core

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"shark/internal/pyref"
)

// The int8 and int4 codes equal an independent NumPy implementation of
// FBGEMM's FloatToFusedNBitRowwiseQuantizedSBHalf reference, byte for byte.
func TestRowwiseCodesMatchNumPy(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const rows, dim = 4000, 37 // odd dim: int4 packs a half-filled last byte
	vals := make([]float32, rows*dim)
	for i := 0; i < rows; i++ {
		row := vals[i*dim : (i+1)*dim]
		scale := math.Ldexp(1, r.IntN(30)-20)
		off := r.NormFloat64() * scale * float64(r.IntN(3))
		for j := range row {
			row[j] = float32(off + r.NormFloat64()*scale)
		}
		switch i % 50 {
		case 0: // constant row: range 0
			for j := range row {
				row[j] = 0.3
			}
		case 1: // tiny range: the fp16 scale underflows
			for j := range row {
				row[j] = 1 + float32(j)*1e-9
			}
		case 2: // large values
			for j := range row {
				row[j] = float32(r.NormFloat64() * 3e4)
			}
		}
	}
	dir := t.TempDir()
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	os.WriteFile(filepath.Join(dir, "x.f32"), raw, 0o644)
	pyref.Run(t, `
import numpy as np, sys, os
d, rows, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.fromfile(os.path.join(d, 'x.f32'), '<f4').reshape(rows, dim)
for bits in (8, 4):
    per = 8 // bits
    nb = (dim + per - 1) // per
    out = np.zeros((rows, nb + 4), np.uint8)
    with np.errstate(all='ignore'):
        mn = x.min(axis=1).astype(np.float16)
        mnf = mn.astype(np.float32)
        rng = x.max(axis=1) - mnf
        scale = np.where(rng == 0, np.float32(1), rng / np.float32((1 << bits) - 1)).astype(np.float32)
        sh = scale.astype(np.float16)
        scale = sh.astype(np.float32)
        scale = np.where(scale == 0, np.float32(1), scale)
        inv = (np.float32(1) / scale).astype(np.float32)
        bad = np.isinf(inv)
        scale = np.where(bad, np.float32(1), scale)
        inv = np.where(bad, np.float32(1), inv)
        q = np.rint(((x - mnf[:, None]).astype(np.float32) * inv[:, None]).astype(np.float32))
    q = np.clip(q, 0, (1 << bits) - 1).astype(np.uint8)
    for j in range(dim):
        out[:, j // per] |= (q[:, j] << ((j % per) * bits)).astype(np.uint8)
    out[:, nb:nb+2] = scale.astype(np.float16).view(np.uint8).reshape(rows, 2)
    out[:, nb+2:nb+4] = mn.view(np.uint8).reshape(rows, 2)
    out.tofile(os.path.join(d, 'q%d.u8' % bits))
`, dir, fmt.Sprint(rows), fmt.Sprint(dim))
	for _, tier := range []Tier{INT8, INT4} {
		bits := map[Tier]int{INT8: 8, INT4: 4}[tier]
		want, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("q%d.u8", bits)))
		if err != nil {
			t.Fatal(err)
		}
		rb := tier.RowBytes(dim)
		got := make([]byte, rb)
		for i := 0; i < rows; i++ {
			EncodeRow(tier, got, vals[i*dim:(i+1)*dim])
			if !bytes.Equal(got, want[i*rb:(i+1)*rb]) {
				t.Fatalf("%v row %d:\n shark %x\n numpy %x", tier, i, got, want[i*rb:(i+1)*rb])
			}
		}
	}
}
