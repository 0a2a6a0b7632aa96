package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"shark/core"
	"shark/core/kernels"
	"shark/core/par"
)

// Config of the reference model and its training.
type Config struct {
	Dim       int     `json:"dim"`
	Hidden    []int   `json:"hidden"`
	Optimizer string  `json:"optimizer"` // "adam" or "adagrad"
	LR        float64 `json:"lr"`
	Batch     int     `json:"batch"`
	Epochs    int     `json:"epochs"`
	L2        float64 `json:"l2"` // on looked-up embedding rows
	Seed      uint64  `json:"seed"`
	Split     float64 `json:"split"` // held-out share of the training file; later commands hold out the same rows
	// Workers is this run's goroutines, never saved: a count read from a
	// file would size another machine's run. 0: every core; results do not
	// depend on it.
	Workers int `json:"-" msgpack:"-"`
}

// MaxWorkers bounds Config.Workers: more goroutines than this only cost
// memory (each holds its own work buffers).
const MaxWorkers = 4096

// MaxParams bounds a model's parameters, tables and layers together: 2^28
// float32s are 1 GiB, and training holds about four times that (Adam's two
// moments, the gradients). Flags whose product passes it (--hidden
// 65536,65536; --dim 4096 over a large vocabulary) are refused before
// anything is allocated, instead of ending the process out of memory.
const MaxParams = 1 << 28

// DefaultConfig: small enough to train on a laptop in seconds, large enough
// to reach the usual AUC on Criteo samples.
func DefaultConfig() Config {
	return Config{Dim: 8, Hidden: []int{64, 32}, Optimizer: "adam", LR: 0.001, Batch: 128, Epochs: 3, L2: 1e-5, Seed: 1, Split: 0.2}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Dim < 1 || c.Dim > 4096:
		return fmt.Errorf("%w: dim %d outside 1..4096", core.ErrInvalid, c.Dim)
	case c.Optimizer != "adam" && c.Optimizer != "adagrad":
		return fmt.Errorf("%w: optimizer %q (adam or adagrad)", core.ErrInvalid, c.Optimizer)
	case !(c.LR > 0):
		return fmt.Errorf("%w: learning rate must be positive", core.ErrInvalid)
	case c.Batch < 1 || c.Epochs < 0:
		return fmt.Errorf("%w: batch %d, epochs %d", core.ErrInvalid, c.Batch, c.Epochs)
	case c.Workers < 0 || c.Workers > MaxWorkers:
		return fmt.Errorf("%w: workers %d outside 0..%d", core.ErrInvalid, c.Workers, MaxWorkers)
	}
	for _, h := range c.Hidden {
		if h < 1 || h > 1<<16 {
			return fmt.Errorf("%w: hidden size %d outside 1..65536", core.ErrInvalid, h)
		}
	}
	if n := denseParams(0, c.Hidden); n > MaxParams {
		return fmt.Errorf("%w: hidden layers %v have %d weights, more than %d (1 GiB): use fewer or smaller layers", core.ErrInvalid, c.Hidden, n, MaxParams)
	}
	return nil
}

// denseParams counts the weights and biases of the layers over an input
// of width in, up to MaxParams+1 (so that no product overflows).
func denseParams(in int, hidden []int) int64 {
	var n int64
	for _, h := range append(append([]int{}, hidden...), 1) {
		n += int64(in)*int64(h) + int64(h)
		if n > MaxParams {
			return MaxParams + 1
		}
		in = h
	}
	return n
}

// checkSize refuses a model of more than MaxParams parameters.
func checkSize(cfg Config, ds *Dataset) error {
	var rows int64
	for _, v := range ds.Vocab {
		rows += int64(v)
	}
	n := rows*int64(cfg.Dim) + denseParams(len(ds.Fields)*cfg.Dim, cfg.Hidden)
	if n > MaxParams {
		return fmt.Errorf("%w: the model would have more than %d parameters (%d table rows of dim %d, hidden %v over %d fields): use a smaller --dim or --hidden, or a larger --min-count", core.ErrInvalid, MaxParams, rows, cfg.Dim, cfg.Hidden, len(ds.Fields))
	}
	return nil
}

// Layer is a dense layer y = W x + b, W row-major [Out][In].
type Layer struct {
	In, Out int
	W, B    []float32
}

// Model is the reference CTR model.
type Model struct {
	Cfg    Config
	Fields []string         // every field of the data, in data order
	Slots  []int            // the data field feeding each input slot (pruning removes slots)
	Emb    []core.RowSource // per data field; nil once pruned
	Layers []*Layer

	opt    *optState
	epochs int // epochs trained, seeding each epoch's shuffle
}

// ShardSize is the unit of deterministic parallel work: samples are
// processed in shards of this size and shard results combined in order.
const ShardSize = 32

// New initialises a model for the dataset's fields and vocabularies.
func New(cfg Config, ds *Dataset) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkSize(cfg, ds); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0xe3b))
	m := &Model{Cfg: cfg, Fields: ds.Fields}
	for f, v := range ds.Vocab {
		t := &core.Table{Name: ds.Fields[f], R: v, D: cfg.Dim, Data: make([]float32, v*cfg.Dim)}
		for i := range t.Data {
			t.Data[i] = float32(r.NormFloat64() * 0.05)
		}
		m.Emb = append(m.Emb, t)
		m.Slots = append(m.Slots, f)
	}
	in := len(ds.Fields) * cfg.Dim
	for _, h := range append(append([]int{}, cfg.Hidden...), 1) {
		l := &Layer{In: in, Out: h, W: make([]float32, in*h), B: make([]float32, h)}
		lim := math.Sqrt(6 / float64(in+h)) // Glorot uniform
		for i := range l.W {
			l.W[i] = float32((2*r.Float64() - 1) * lim)
		}
		m.Layers = append(m.Layers, l)
		in = h
	}
	return m, nil
}

// InputSize is the width of the concatenated embeddings.
func (m *Model) InputSize() int { return len(m.Slots) * m.Cfg.Dim }

// work holds one goroutine's buffers for a forward and backward pass.
type work struct {
	x    []float32   // input: concatenated embeddings
	acts [][]float32 // output of each layer (post-ReLU, last = logit)
	d    [][]float32 // gradient w.r.t. each layer's output
	gx   []float32   // gradient w.r.t. x
}

func (m *Model) newWork() *work {
	w := &work{x: make([]float32, m.InputSize()), gx: make([]float32, m.InputSize())}
	for _, l := range m.Layers {
		w.acts = append(w.acts, make([]float32, l.Out))
		w.d = append(w.d, make([]float32, l.Out))
	}
	return w
}

func (m *Model) lookup(ids []int32, x []float32) error {
	D := m.Cfg.Dim
	for k, f := range m.Slots {
		if err := m.Emb[f].Row(int(ids[f]), x[k*D:(k+1)*D]); err != nil {
			return fmt.Errorf("field %q row %d: %w", m.Fields[f], ids[f], err)
		}
	}
	return nil
}

// forward computes the probability of a click from w.x.
func (m *Model) forward(w *work) float32 {
	in := w.x
	last := len(m.Layers) - 1
	for li, l := range m.Layers {
		out := w.acts[li]
		for j := 0; j < l.Out; j++ {
			v := kernels.Dot(l.W[j*l.In:(j+1)*l.In], in) + l.B[j]
			if li < last && v < 0 {
				v = 0
			}
			out[j] = v
		}
		in = out
	}
	return sigmoid(w.acts[last][0])
}

func sigmoid(z float32) float32 {
	if z >= 0 {
		return float32(1 / (1 + math.Exp(-float64(z))))
	}
	e := math.Exp(float64(z))
	return float32(e / (1 + e))
}

// backward propagates dL/dlogit = p - y; it adds parameter gradients into g
// (if not nil) and leaves dL/dx in w.gx.
func (m *Model) backward(w *work, p, y float32, g *grads) {
	last := len(m.Layers) - 1
	w.d[last][0] = p - y
	for li := last; li >= 0; li-- {
		l := m.Layers[li]
		in := w.x
		if li > 0 {
			in = w.acts[li-1]
		}
		dOut := w.d[li]
		var dIn []float32
		if li > 0 {
			dIn = w.d[li-1]
		} else {
			dIn = w.gx
		}
		clear(dIn)
		for j := 0; j < l.Out; j++ {
			dj := dOut[j]
			if dj == 0 {
				continue
			}
			if g != nil {
				kernels.Axpy(dj, in, g.w[li][j*l.In:(j+1)*l.In])
				g.b[li][j] += dj
			}
			kernels.Axpy(dj, l.W[j*l.In:(j+1)*l.In], dIn)
		}
		if li > 0 {
			for k, a := range w.acts[li-1] {
				if a <= 0 {
					dIn[k] = 0 // ReLU
				}
			}
		}
	}
}

// grads is one shard's dense gradient sums.
type grads struct {
	w, b [][]float32
}

func (m *Model) newGrads() *grads {
	g := &grads{}
	for _, l := range m.Layers {
		g.w = append(g.w, make([]float32, len(l.W)))
		g.b = append(g.b, make([]float32, len(l.B)))
	}
	return g
}

func (g *grads) zero() {
	for i := range g.w {
		clear(g.w[i])
		clear(g.b[i])
	}
}

// Predict returns the click probability of every sample.
func (m *Model) Predict(ds *Dataset) ([]float32, error) {
	out := make([]float32, ds.Rows())
	shards := (ds.Rows() + ShardSize - 1) / ShardSize
	errs := make([]error, shards)
	// Buffers are reused through pool; one that finds the pool full is
	// dropped, so that a goroutine never waits to give one back, whatever
	// the worker count against the cores (it deadlocked with more workers
	// than the pool held).
	pool := make(chan *work, par.Workers()+1)
	par.For(shards, m.Cfg.Workers, func(k int) {
		var w *work
		select {
		case w = <-pool:
		default:
			w = m.newWork()
		}
		defer func() {
			select {
			case pool <- w:
			default:
			}
		}()
		for s := k * ShardSize; s < min((k+1)*ShardSize, ds.Rows()); s++ {
			if err := m.lookup(ds.Sample(s), w.x); err != nil {
				errs[k] = err
				return
			}
			out[s] = m.forward(w)
		}
	})
	return out, errors.Join(errs...)
}

// Metrics are a model's scores on a dataset.
type Metrics struct {
	AUC     float64 `json:"auc"`
	LogLoss float64 `json:"logloss"`
	Rows    int     `json:"rows"`
}

// Evaluate computes AUC and logloss on ds.
func (m *Model) Evaluate(ds *Dataset) (Metrics, error) {
	p, err := m.Predict(ds)
	if err != nil {
		return Metrics{}, err
	}
	return Metrics{AUC: AUC(p, ds.Labels), LogLoss: LogLoss(p, ds.Labels), Rows: ds.Rows()}, nil
}

// Grads calls fn for every sample with its looked-up input x and the
// per-sample gradient gx = dL/dx (exact at any batch size), from up to
// Cfg.Workers goroutines. Shard k holds samples [k*ShardSize, (k+1)*ShardSize);
// fn may write only state owned by its shard.
func (m *Model) Grads(ds *Dataset, fn func(shard, s int, x, gx []float32)) error {
	shards := (ds.Rows() + ShardSize - 1) / ShardSize
	errs := make([]error, shards)
	par.For(shards, m.Cfg.Workers, func(k int) {
		w := m.newWork()
		for s := k * ShardSize; s < min((k+1)*ShardSize, ds.Rows()); s++ {
			if err := m.lookup(ds.Sample(s), w.x); err != nil {
				errs[k] = err
				return
			}
			p := m.forward(w)
			m.backward(w, p, ds.Labels[s], nil)
			fn(k, s, w.x, w.gx)
		}
	})
	return errors.Join(errs...)
}
