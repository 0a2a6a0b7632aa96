package compress

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"shark/formats"
)

// f64Tensor is a float64 tensor of rows x dim values, all 0.5 but those set.
func f64Tensor(rows, dim int, set map[int]float64) *formats.Tensor {
	var b []byte
	for i := range rows * dim {
		v, ok := set[i]
		if !ok {
			v = 0.5
		}
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return formats.NewTensorAt("t", formats.F64, []int64{int64(rows), int64(dim)}, int64(len(b)), bytes.NewReader(b), 0)
}

// TestFloat32Misfit: the first row holding a value float32 turns into an
// infinity or a 0 is found, past the scan's first chunk too; values it
// holds (to its precision, so above half its smallest subnormal), NaN and
// infinities are no misfit.
func TestFloat32Misfit(t *testing.T) {
	const dim = 3
	rows := misfitChunk/(8*dim) + 5 // the scan reads more than one chunk
	fits := []float64{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0.71e-45, math.NaN(), math.Inf(-1), 0, 1e-30}
	loses := []float64{1e300, -1e39, 1e-300, -1e-46, 0.70e-45}
	for _, v := range fits {
		if row, why, err := float32Misfit(f64Tensor(rows, dim, map[int]float64{(rows - 1) * dim: v})); err != nil || row != -1 {
			t.Errorf("%g: row %d (%s) %v, want none", v, row, why, err)
		}
	}
	for _, v := range loses {
		for _, r := range []int{0, rows - 2} {
			row, why, err := float32Misfit(f64Tensor(rows, dim, map[int]float64{r*dim + 2: v, (rows - 1) * dim: v}))
			if err != nil || row != int64(r) || why == "" {
				t.Errorf("%g at row %d: row %d (%q) %v", v, r, row, why, err)
			}
		}
	}
}
