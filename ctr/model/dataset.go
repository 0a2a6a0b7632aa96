// Package model is the reference CTR model that F-Permutation and every
// accuracy claim need: one embedding table per field, the looked-up rows
// concatenated into an MLP with ReLU, a sigmoid output and logloss, trained
// with Adam or Adagrad; deterministic for a seed whatever the core count.
package model

import (
	"fmt"
	"math/rand/v2"
)

// Dataset is encoded samples: row ids per field, and 0/1 labels.
type Dataset struct {
	Fields []string
	Vocab  []int     // rows of each field's table
	IDs    []int32   // Rows() x len(Fields), row-major
	Labels []float32 // 0 or 1
}

// Rows is the number of samples.
func (d *Dataset) Rows() int { return len(d.Labels) }

// Sample returns sample s's ids.
func (d *Dataset) Sample(s int) []int32 {
	n := len(d.Fields)
	return d.IDs[s*n : (s+1)*n]
}

// Validate checks every id against its field's vocabulary.
func (d *Dataset) Validate() error {
	n := len(d.Fields)
	if len(d.Vocab) != n || len(d.IDs) != n*len(d.Labels) {
		return fmt.Errorf("dataset: %d fields, %d vocabularies, %d ids for %d rows", n, len(d.Vocab), len(d.IDs), len(d.Labels))
	}
	for i, id := range d.IDs {
		if id < 0 || int(id) >= d.Vocab[i%n] {
			return fmt.Errorf("dataset: row %d field %q: id %d outside [0, %d)", i/n, d.Fields[i%n], id, d.Vocab[i%n])
		}
	}
	return nil
}

// Subset returns the samples idx, sharing field metadata.
func (d *Dataset) Subset(idx []int) *Dataset {
	n := len(d.Fields)
	out := &Dataset{Fields: d.Fields, Vocab: d.Vocab, IDs: make([]int32, 0, len(idx)*n), Labels: make([]float32, 0, len(idx))}
	for _, s := range idx {
		out.IDs = append(out.IDs, d.Sample(s)...)
		out.Labels = append(out.Labels, d.Labels[s])
	}
	return out
}

// Split shuffles deterministically and returns (1-frac, frac) parts.
func (d *Dataset) Split(frac float64, seed uint64) (*Dataset, *Dataset) {
	r := rand.New(rand.NewPCG(seed, 0x5b1))
	perm := r.Perm(d.Rows())
	k := int(float64(d.Rows()) * (1 - frac))
	return d.Subset(perm[:k]), d.Subset(perm[k:])
}

// PositiveRate is the share of positive labels.
func (d *Dataset) PositiveRate() float64 {
	s := 0.0
	for _, y := range d.Labels {
		s += float64(y)
	}
	return s / float64(max(1, d.Rows()))
}
