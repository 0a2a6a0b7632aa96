package compress

import (
	"fmt"
	"io"

	"shark/core"
	"shark/formats"
)

// countsTensor finds a table's <name><suffix> counts and checks their shape:
// [rows] or [periods, rows].
func countsTensor(counts *formats.File, name, suffix string, rows int) (*formats.Tensor, int64, error) {
	t, err := counts.Tensor(name + suffix)
	if err != nil {
		return nil, 0, fmt.Errorf("counts file: %w (it needs %s.pos and %s.neg)", err, name, name)
	}
	var periods, n int64
	switch len(t.Shape) {
	case 1:
		periods, n = 1, t.Shape[0]
	case 2:
		periods, n = t.Shape[0], t.Shape[1]
	default:
		return nil, 0, fmt.Errorf("counts %q: shape %v, want [rows] or [periods, rows]", t.Name, t.Shape)
	}
	if n != int64(rows) {
		return nil, 0, fmt.Errorf("counts %q has %d rows, table %q has %d", t.Name, n, name, rows)
	}
	return t, periods, nil
}

// countsPrioritiesOf computes the priorities of rows [offset, offset+rows)
// of a table of total rows (all of it, or a row shard) from its counts into
// pst: the .pos and .neg streams are read side by side, a stretch of rows at
// a time, and each period's share is added to the priorities
// (core.AddCounts: the sums of core.FromCounts, in the same order). Only a
// stretch of the counts is held at once.
func countsPrioritiesOf(counts *formats.File, name string, rows, offset, total int, pp core.PriorityParams, pst priorityStore) error {
	pt, K, err := countsTensor(counts, name, ".pos", total)
	if err != nil {
		return err
	}
	nt, Kn, err := countsTensor(counts, name, ".neg", total)
	if err != nil {
		return err
	}
	if K != Kn {
		return fmt.Errorf("counts for %q: %w: counts need the same number (>= 1) of positive and negative periods, got %d and %d", name, core.ErrInvalid, K, Kn)
	}
	pr, err := pt.Open()
	if err != nil {
		return err
	}
	defer pr.Close()
	nr, err := nt.Open()
	if err != nil {
		return err
	}
	defer nr.Close()
	const stretch = 1 << 16
	ps, ns := pt.DType.Size(), nt.DType.Size()
	pb, nb := make([]byte, stretch*ps), make([]byte, stretch*ns)
	acc := make([]float64, stretch)
	var pv, nv []float64
	skip := func(n int) error {
		if _, err := io.CopyN(io.Discard, pr, int64(n*ps)); err != nil {
			return fmt.Errorf("counts %q: %w", pt.Name, err)
		}
		if _, err := io.CopyN(io.Discard, nr, int64(n*ns)); err != nil {
			return fmt.Errorf("counts %q: %w", nt.Name, err)
		}
		return nil
	}
	for k := 0; k < int(K); k++ {
		if err := skip(offset); err != nil {
			return err
		}
		for r0 := 0; r0 < rows; r0 += stretch {
			m := min(stretch, rows-r0)
			if _, err := io.ReadFull(pr, pb[:m*ps]); err != nil {
				return fmt.Errorf("counts %q: %w", pt.Name, err)
			}
			if _, err := io.ReadFull(nr, nb[:m*ns]); err != nil {
				return fmt.Errorf("counts %q: %w", nt.Name, err)
			}
			pv = formats.DecodeFloat64(pv[:0], pt.DType, pb[:m*ps])
			nv = formats.DecodeFloat64(nv[:0], nt.DType, nb[:m*ns])
			a := acc[:m]
			if k == 0 {
				clear(a)
			} else if err := pst.read(r0, r0+m, a); err != nil {
				return err
			}
			if err := core.AddCounts(a, pv, nv, r0, k, int(K), pp); err != nil {
				return fmt.Errorf("counts for %q: %w", name, err)
			}
			if err := pst.write(r0, a); err != nil {
				return err
			}
		}
		if err := skip(total - offset - rows); err != nil {
			return err
		}
	}
	return nil
}
