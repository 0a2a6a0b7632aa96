package compress

import (
	"fmt"
	"io"
	"math"

	"shark/core"
	"shark/formats"
)

// DenseNote is a tensor that qualified as a table but is kept dense, bit
// for bit, because a table's tiers could not hold it.
type DenseNote struct {
	Name string `json:"name"`
	// Row is the first row holding a value no float32 can hold.
	Row    int64  `json:"row"`
	Reason string `json:"reason"`
}

// misfitChunk is the most bytes the float32-range scan decodes at a time.
const misfitChunk = 1 << 20

// float32Misfit finds the first row of a float64 tensor holding a finite
// value that float32 cannot hold: past its range (it would become an
// infinity) or a non-zero below its smallest subnormal (it would become
// 0). Every tier, fp32 included, starts from the row as float32, so such a
// table would come back with values the source did not hold. It reads the
// tensor once, a chunk at a time; row is -1 when every value fits.
func float32Misfit(t *formats.Tensor) (row int64, reason string, err error) {
	if t.DType != formats.F64 || len(t.Shape) != 2 || t.Shape[1] < 1 {
		return -1, "", nil
	}
	rc, err := t.Open()
	if err != nil {
		return -1, "", err
	}
	defer rc.Close()
	rowBytes := t.Shape[1] * 8
	buf := make([]byte, max(rowBytes, misfitChunk/rowBytes*rowBytes))
	var vals []float64
	for r := int64(0); r < t.Shape[0]; {
		n := min(int64(len(buf)), (t.Shape[0]-r)*rowBytes)
		if _, err := io.ReadFull(rc, buf[:n]); err != nil {
			return -1, "", fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		vals = formats.DecodeFloat64(vals[:0], formats.F64, buf[:n])
		for i, v := range vals {
			if why := float32Loses(v); why != "" {
				return r + int64(i)/t.Shape[1], why, nil
			}
		}
		r += n / rowBytes
	}
	return -1, "", nil
}

// float32Loses says why float32 cannot hold v, or "" when it can (to its
// precision; NaN and infinities stay what they are).
func float32Loses(v float64) string {
	f := float64(float32(v))
	switch {
	case math.IsInf(f, 0) && !math.IsInf(v, 0):
		return fmt.Sprintf("%g is past float32's range", v)
	case f == 0 && v != 0:
		return fmt.Sprintf("%g is below float32's smallest subnormal", v)
	}
	return ""
}

// keepExact drops from sel the float64 tensors that float32 cannot hold,
// warning and noting each; one that --tables names is refused.
func (p *Plan) keepExact(sel []*formats.Tensor) ([]*formats.Tensor, error) {
	named, err := p.Settings.tables()
	if err != nil {
		return nil, err
	}
	out := sel[:0:0]
	for _, t := range sel {
		row, why, err := float32Misfit(t)
		if err != nil {
			return nil, err
		}
		if row < 0 {
			out = append(out, t)
			continue
		}
		if named != nil {
			return nil, fmt.Errorf("%w: --tables %q names %q, a float64 table whose row %d holds a value no float32 can hold (%s): its tiers would not give it back; leave it out of --tables to keep it dense, exactly", core.ErrInvalid, p.Settings.Tables, t.Name, row, why)
		}
		p.Dense = append(p.Dense, DenseNote{Name: t.Name, Row: row, Reason: why})
		p.warn(fmt.Sprintf("table %q: row %d holds a value no float32 can hold (%s); kept dense, exactly as it is (float64), not compressed", t.Name, row, why))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: every table qualifying holds values no float32 can hold, so none can be compressed (first: %q row %d, %s)", ErrNoTables, p.Dense[0].Name, p.Dense[0].Row, p.Dense[0].Reason)
	}
	return out, nil
}
