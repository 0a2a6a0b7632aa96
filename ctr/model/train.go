package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"shark/core"
	"shark/core/par"
)

// optState holds the optimizer's moments: dense layers, and the embedding
// rows, updated lazily (only the rows a batch touches, as LazyAdam does).
type optState struct {
	step   int
	c1, c2 float64     // Adam's bias corrections at step, set by next
	m, v   [][]float32 // per layer W then B, interleaved: 2*layer, 2*layer+1
	em, ev [][]float32 // per data field, same shape as the table
}

// next starts an optimizer step. The bias corrections are the same for
// every parameter of a step: computed here once, not in every update call
// (a batch updates thousands of embedding rows).
func (o *optState) next() {
	o.step++
	t := float64(o.step)
	o.c1, o.c2 = 1-math.Pow(beta1, t), 1-math.Pow(beta2, t)
}

func (m *Model) ensureOpt() {
	if m.opt != nil {
		return
	}
	o := &optState{}
	for _, l := range m.Layers {
		o.m = append(o.m, make([]float32, len(l.W)), make([]float32, len(l.B)))
		o.v = append(o.v, make([]float32, len(l.W)), make([]float32, len(l.B)))
	}
	for _, e := range m.Emb {
		if t, ok := e.(*core.Table); ok {
			o.em = append(o.em, make([]float32, len(t.Data)))
			o.ev = append(o.ev, make([]float32, len(t.Data)))
		} else {
			o.em, o.ev = append(o.em, nil), append(o.ev, nil)
		}
	}
	m.opt = o
}

const (
	beta1, beta2 = 0.9, 0.999
	adamEps      = 1e-8
	adagradEps   = 1e-8
	adagradInit  = 0.1
)

// update applies one optimizer step to params with gradient g (already
// averaged), using moment buffers mm and vv.
func (m *Model) update(params, g, mm, vv []float32) {
	lr := m.Cfg.LR
	if m.Cfg.Optimizer == "adagrad" {
		for i, gi := range g {
			if vv[i] == 0 {
				vv[i] = adagradInit
			}
			vv[i] += gi * gi
			params[i] -= float32(lr * float64(gi) / (math.Sqrt(float64(vv[i])) + adagradEps))
		}
		return
	}
	c1, c2 := m.opt.c1, m.opt.c2
	for i, gi := range g {
		mm[i] = beta1*mm[i] + (1-beta1)*gi
		vv[i] = beta2*vv[i] + (1-beta2)*gi*gi
		mh := float64(mm[i]) / c1
		vh := float64(vv[i]) / c2
		params[i] -= float32(lr * mh / (math.Sqrt(vh) + adamEps))
	}
}

// EpochResult is the validation score after an epoch.
type EpochResult struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_logloss"`
	Valid     Metrics `json:"valid"`
}

// Train runs epochs of minibatch training on train, scoring valid (if not
// nil) after each. Every trainable table must be an in-memory *core.Table.
// progress, if set, is told samples done and the total.
func (m *Model) Train(train, valid *Dataset, epochs int, progress func(done, total int64)) ([]EpochResult, error) {
	for _, f := range m.Slots {
		if _, ok := m.Emb[f].(*core.Table); !ok {
			return nil, fmt.Errorf("%w: field %q has a compressed table; training needs float32 tables", core.ErrInvalid, m.Fields[f])
		}
	}
	m.ensureOpt()
	tr := m.newTrainer(train)
	var hist []EpochResult
	total := int64(epochs) * int64(train.Rows())
	var done int64
	for e := 0; e < epochs; e++ {
		r := rand.New(rand.NewPCG(m.Cfg.Seed, uint64(1000+m.epochs)))
		perm := r.Perm(train.Rows())
		lossSum := 0.0
		for b0 := 0; b0 < len(perm); b0 += m.Cfg.Batch {
			batch := perm[b0:min(b0+m.Cfg.Batch, len(perm))]
			if err := tr.batch(batch, &lossSum); err != nil {
				return hist, err
			}
			done += int64(len(batch))
			if progress != nil {
				progress(done, total)
			}
		}
		res := EpochResult{Epoch: len(hist) + 1, TrainLoss: lossSum / float64(max(1, train.Rows()))}
		if valid != nil {
			met, err := m.Evaluate(valid)
			if err != nil {
				return hist, err
			}
			res.Valid = met
		}
		hist = append(hist, res)
		m.epochs++
	}
	return hist, nil
}

// trainer holds one Train call's buffers.
type trainer struct {
	m      *Model
	train  *Dataset
	in     int // the input width
	shards []*trainShard
	fields []fieldAcc     // per slot: the embedding gradients of a batch
	params [][]float32    // the dense parameters, W then B of each layer, as the optimizer's moments are laid out
	segs   []paramSegment // the dense parameters in segments: the optimizer's unit of work
}

// trainShard is one shard's forward and backward state.
type trainShard struct {
	w    *work
	g    *grads
	gx   []float32 // ShardSize x input
	loss float64
	err  error
}

// fieldAcc accumulates one field's embedding gradients sparsely: the rows
// a batch touched, in order, and row -> offset in acc.
type fieldAcc struct {
	index map[int32]int
	order []touched
	acc   []float32
}

type touched struct {
	row int32
	off int
}

// paramSegment is at most 4096 values of dense parameter i.
type paramSegment struct{ i, lo, hi int }

func (m *Model) newTrainer(train *Dataset) *trainer {
	tr := &trainer{m: m, train: train, in: m.InputSize()}
	for range (m.Cfg.Batch + ShardSize - 1) / ShardSize {
		tr.shards = append(tr.shards, &trainShard{w: m.newWork(), g: m.newGrads(), gx: make([]float32, ShardSize*tr.in)})
	}
	tr.fields = make([]fieldAcc, len(m.Slots))
	for k := range tr.fields {
		tr.fields[k].index = map[int32]int{}
	}
	for _, l := range m.Layers {
		tr.params = append(tr.params, l.W, l.B)
	}
	for i, p := range tr.params {
		for lo := 0; lo < len(p); lo += 4096 {
			tr.segs = append(tr.segs, paramSegment{i, lo, min(len(p), lo+4096)})
		}
	}
	return tr
}

// batch trains on one minibatch and adds its loss to *loss.
func (tr *trainer) batch(batch []int, loss *float64) error {
	ns := (len(batch) + ShardSize - 1) / ShardSize
	par.For(ns, tr.m.Cfg.Workers, func(k int) { tr.forwardBackward(k, batch[k*ShardSize:min((k+1)*ShardSize, len(batch))]) })
	var errs []error
	for k := 0; k < ns; k++ {
		errs = append(errs, tr.shards[k].err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Combine shards in order, then the optimizer step: every element gets
	// the same sums in the same order for any worker count.
	for k := 0; k < ns; k++ {
		*loss += tr.shards[k].loss
	}
	tr.step(batch, ns)
	return nil
}

// forwardBackward runs shard k's samples forward and back, keeping their
// parameter gradients, loss and input gradients.
func (tr *trainer) forwardBackward(k int, samples []int) {
	m, sh := tr.m, tr.shards[k]
	sh.g.zero()
	sh.loss, sh.err = 0, nil
	for i, s := range samples {
		if err := m.lookup(tr.train.Sample(s), sh.w.x); err != nil {
			sh.err = err
			return
		}
		p := m.forward(sh.w)
		y := tr.train.Labels[s]
		sh.loss += logloss(float64(p), float64(y))
		m.backward(sh.w, p, y, sh.g)
		copy(sh.gx[i*tr.in:(i+1)*tr.in], sh.w.gx)
	}
}

// step is one optimizer step after a batch of ns shards: the embedding rows
// the batch touched, a field per job, and the dense parameters, a segment
// per job, in one pool (the fields first: they are the larger), so a batch
// waits once.
func (tr *trainer) step(batch []int, ns int) {
	inv := 1 / float32(len(batch))
	tr.m.opt.next()
	nf := len(tr.m.Slots)
	par.For(nf+len(tr.segs), tr.m.Cfg.Workers, func(i int) {
		if i < nf {
			tr.updateField(i, batch, inv)
			return
		}
		tr.updateSegment(tr.segs[i-nf], ns, inv)
	})
}

// updateField sums, for each row of slot k's table the batch touched, its
// gradient over the batch in sample order, then updates the row. Fields
// share nothing.
func (tr *trainer) updateField(k int, batch []int, inv float32) {
	m := tr.m
	D := m.Cfg.Dim
	f := m.Slots[k]
	fa := &tr.fields[k]
	fa.order, fa.acc = fa.order[:0], fa.acc[:0]
	for i, s := range batch {
		row := tr.train.Sample(s)[f]
		gx := tr.shards[i/ShardSize].gx[(i%ShardSize)*tr.in+k*D:]
		off, ok := fa.index[row]
		if !ok {
			off = len(fa.acc)
			fa.acc = append(fa.acc, make([]float32, D)...)
			fa.index[row] = off
			fa.order = append(fa.order, touched{row, off})
		}
		addTo(fa.acc[off:off+D], gx[:D])
	}
	tbl := m.Emb[f].(*core.Table)
	em, ev := m.opt.em[f], m.opt.ev[f]
	for _, t := range fa.order {
		r, off := t.row, t.off
		row := tbl.Data[int(r)*D : int(r+1)*D]
		g := fa.acc[off : off+D]
		for j := range g {
			g[j] = g[j]*inv + float32(m.Cfg.L2)*row[j]
		}
		m.update(row, g, em[int(r)*D:int(r+1)*D], ev[int(r)*D:int(r+1)*D])
		delete(fa.index, r)
	}
}

// updateSegment sums a segment's gradient over the shards in order, then
// updates it.
func (tr *trainer) updateSegment(sg paramSegment, ns int, inv float32) {
	m := tr.m
	g := tr.shards[0].g.param(sg.i)[sg.lo:sg.hi]
	for k := 1; k < ns; k++ {
		addTo(g, tr.shards[k].g.param(sg.i)[sg.lo:sg.hi])
	}
	scale(g, inv)
	m.update(tr.params[sg.i][sg.lo:sg.hi], g, m.opt.m[sg.i][sg.lo:sg.hi], m.opt.v[sg.i][sg.lo:sg.hi])
}

// param is the gradient of dense parameter i (W then B of each layer).
func (g *grads) param(i int) []float32 {
	if i%2 == 0 {
		return g.w[i/2]
	}
	return g.b[i/2]
}

func addTo(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

func scale(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}

// Clone deep-copies the model (tables included) for rollback.
func (m *Model) Clone() *Model {
	c := &Model{Cfg: m.Cfg, Fields: m.Fields, Slots: append([]int{}, m.Slots...), epochs: m.epochs}
	for _, e := range m.Emb {
		if t, ok := e.(*core.Table); ok {
			c.Emb = append(c.Emb, &core.Table{Name: t.Name, R: t.R, D: t.D, Data: append([]float32{}, t.Data...)})
		} else {
			c.Emb = append(c.Emb, e)
		}
	}
	for _, l := range m.Layers {
		c.Layers = append(c.Layers, &Layer{In: l.In, Out: l.Out, W: append([]float32{}, l.W...), B: append([]float32{}, l.B...)})
	}
	return c
}

// Prune removes data field f from the model: its table is dropped and the
// first layer loses the inputs it fed. Optimizer state restarts.
func (m *Model) Prune(f int) error {
	k := -1
	for i, s := range m.Slots {
		if s == f {
			k = i
		}
	}
	if k < 0 {
		return fmt.Errorf("%w: field %d is not in the model", core.ErrInvalid, f)
	}
	D := m.Cfg.Dim
	l := m.Layers[0]
	nin := l.In - D
	w := make([]float32, 0, l.Out*nin)
	for j := 0; j < l.Out; j++ {
		row := l.W[j*l.In : (j+1)*l.In]
		w = append(w, row[:k*D]...)
		w = append(w, row[(k+1)*D:]...)
	}
	l.W, l.In = w, nin
	m.Slots = append(m.Slots[:k], m.Slots[k+1:]...)
	m.Emb[f] = nil
	m.opt = nil // the first layer changed shape: moments restart
	return nil
}

// Active reports whether data field f is still in the model.
func (m *Model) Active(f int) bool { return m.Emb[f] != nil }

// EmbeddingBytes is the fp32 size of the active tables.
func (m *Model) EmbeddingBytes() int64 {
	var b int64
	for _, f := range m.Slots {
		b += int64(m.Emb[f].Rows()) * int64(m.Cfg.Dim) * 4
	}
	return b
}
