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
	"slices"

	"shark/ctr/model"
)

// Taylor returns Q_i for every data field of m (0 for pruned fields).
func Taylor(m *model.Model, ds *model.Dataset) ([]float64, error) {
	n := ds.Rows()
	if n == 0 {
		return nil, fmt.Errorf("importance: no samples")
	}
	ebar, err := Means(m, CountIDs(m, ds), int64(n))
	if err != nil {
		return nil, err
	}
	q, err := TaylorSums(m, ds, ebar)
	if err != nil {
		return nil, err
	}
	for f := range q {
		q[f] /= float64(n)
	}
	return q, nil
}

// IDCounts are, per data field, how many samples looked up each row: what
// Taylor's mean embeddings are made of. Counts of parts of the data add
// up (Add) to those of the whole, so the means do not depend on how the
// data was split.
type IDCounts map[int]map[int32]int64

// CountIDs counts the rows the samples of ds look up, per field of m.
func CountIDs(m *model.Model, ds *model.Dataset) IDCounts {
	c := IDCounts{}
	for _, f := range m.Slots {
		cnt := map[int32]int64{}
		for s := 0; s < ds.Rows(); s++ {
			cnt[ds.Sample(s)[f]]++
		}
		c[f] = cnt
	}
	return c
}

// Add adds o into c.
func (c IDCounts) Add(o IDCounts) {
	for f, m := range o {
		if c[f] == nil {
			c[f] = map[int32]int64{}
		}
		for id, n := range m {
			c[f][id] += n
		}
	}
}

// Means is ebar for each field of m from the counts of n samples: one
// lookup per distinct row, summed in row order; nil for a field whose
// samples all look up one row (its Q is exactly 0).
func Means(m *model.Model, c IDCounts, n int64) ([][]float64, error) {
	D := m.Cfg.Dim
	ebar := make([][]float64, len(m.Fields))
	row := make([]float32, D)
	for _, f := range m.Slots {
		ids := make([]int32, 0, len(c[f]))
		for id := range c[f] {
			ids = append(ids, id)
		}
		slices.Sort(ids) // deterministic summation order
		if len(ids) <= 1 {
			continue
		}
		ebar[f] = make([]float64, D)
		for _, id := range ids {
			if err := m.Emb[f].Row(int(id), row); err != nil {
				return nil, err
			}
			for j, v := range row {
				ebar[f][j] += float64(c[f][id]) * float64(v)
			}
		}
		for j := range ebar[f] {
			ebar[f][j] /= float64(n)
		}
	}
	return ebar, nil
}

// TaylorSums is sum_s |g_s . (ebar - e_s)| for every field of m over the
// samples of ds (Q_i before dividing by the number of samples): one
// forward and backward pass, summed in fixed shards of samples.
func TaylorSums(m *model.Model, ds *model.Dataset, ebar [][]float64) ([]float64, error) {
	D := m.Cfg.Dim
	nf := len(m.Fields)
	shards := (ds.Rows() + model.ShardSize - 1) / model.ShardSize
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
	return q, nil
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
