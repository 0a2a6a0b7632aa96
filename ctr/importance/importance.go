// Package importance scores embedding tables (F-Permutation) and prunes the
// weak ones. Taylor is the first-order approximation of permutation
// importance from DESIGN.md,
//
//	ebar_i = mean_s e_{s,i}
//	Q_i    = (1/|D|) sum_s | g_{s,i}^T (ebar_i - e_{s,i}) |
//
// with g the per-sample gradient with respect to the looked-up embedding:
// one pass for ebar, one forward and backward pass for all fields at once.
// Exact is the permutation importance it approximates: shuffle one field's
// values across samples, T times, and measure the loss increase.
package importance

import (
	"fmt"
	"math"
	"math/rand/v2"

	"shark/ctr/model"
)

// Taylor returns Q_i for every data field of m (0 for pruned fields).
func Taylor(m *model.Model, ds *model.Dataset) ([]float64, error) {
	D := m.Cfg.Dim
	nf := len(m.Fields)
	n := ds.Rows()
	if n == 0 {
		return nil, fmt.Errorf("importance: no samples")
	}
	// ebar from per-row counts: one lookup per distinct row.
	ebar := make([][]float64, nf)
	row := make([]float32, D)
	for _, f := range m.Slots {
		cnt := make(map[int32]int)
		for s := 0; s < n; s++ {
			cnt[ds.Sample(s)[f]]++
		}
		ids := make([]int32, 0, len(cnt))
		for id := range cnt {
			ids = append(ids, id)
		}
		sortInt32(ids) // deterministic summation order
		if len(ids) == 1 {
			continue // a constant field: every e_s equals ebar, Q is exactly 0
		}
		ebar[f] = make([]float64, D)
		for _, id := range ids {
			if err := m.Emb[f].Row(int(id), row); err != nil {
				return nil, err
			}
			for j, v := range row {
				ebar[f][j] += float64(cnt[id]) * float64(v)
			}
		}
		for j := range ebar[f] {
			ebar[f][j] /= float64(n)
		}
	}
	shards := (n + model.ShardSize - 1) / model.ShardSize
	part := make([][]float64, shards)
	err := m.Grads(ds, func(k, s int, x, gx []float32) {
		if part[k] == nil {
			part[k] = make([]float64, nf)
		}
		for slot, f := range m.Slots {
			if ebar[f] == nil {
				continue
			}
			dot := 0.0
			for j := 0; j < D; j++ {
				dot += float64(gx[slot*D+j]) * (ebar[f][j] - float64(x[slot*D+j]))
			}
			part[k][f] += math.Abs(dot)
		}
	})
	if err != nil {
		return nil, err
	}
	q := make([]float64, nf)
	for _, p := range part {
		for f, v := range p {
			q[f] += v
		}
	}
	for f := range q {
		q[f] /= float64(n)
	}
	return q, nil
}

func sortInt32(a []int32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// ExactScore is one field's permutation importance.
type ExactScore struct {
	LossIncrease float64 // mean over repeats of logloss(permuted) - logloss
	AUCDrop      float64 // mean over repeats of AUC - AUC(permuted)
}

// Exact computes permutation importance of every active field with repeats
// shuffles each; progress (if set) is told fields done.
func Exact(m *model.Model, ds *model.Dataset, repeats int, seed uint64, progress func(done, total int)) ([]ExactScore, error) {
	if repeats < 1 {
		return nil, fmt.Errorf("importance: repeats must be >= 1")
	}
	base, err := m.Evaluate(ds)
	if err != nil {
		return nil, err
	}
	out := make([]ExactScore, len(m.Fields))
	nf := len(m.Fields)
	perm := &model.Dataset{Fields: ds.Fields, Vocab: ds.Vocab, IDs: make([]int32, len(ds.IDs)), Labels: ds.Labels}
	for done, f := range m.Slots {
		for t := 0; t < repeats; t++ {
			copy(perm.IDs, ds.IDs)
			r := rand.New(rand.NewPCG(seed, uint64(f*1000+t)))
			p := r.Perm(ds.Rows())
			for s, src := range p {
				perm.IDs[s*nf+f] = ds.IDs[src*nf+f]
			}
			met, err := m.Evaluate(perm)
			if err != nil {
				return nil, err
			}
			out[f].LossIncrease += (met.LogLoss - base.LogLoss) / float64(repeats)
			out[f].AUCDrop += (base.AUC - met.AUC) / float64(repeats)
		}
		if progress != nil {
			progress(done+1, len(m.Slots))
		}
	}
	return out, nil
}

// Varying reports, per data field, whether ds holds more than one value of
// it. A constant field scores exactly 0 by both methods, so rank
// correlations are taken over the varying fields only: the ties among
// constants would otherwise say nothing and outweigh the rest.
func Varying(ds *model.Dataset) []bool {
	nf := len(ds.Fields)
	out := make([]bool, nf)
	for f := 0; f < nf; f++ {
		for s := 1; s < ds.Rows(); s++ {
			if ds.IDs[s*nf+f] != ds.IDs[f] {
				out[f] = true
				break
			}
		}
	}
	return out
}
