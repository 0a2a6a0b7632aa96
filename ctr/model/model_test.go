package model

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"shark/core"
)

// toy makes a dataset where field 0 decides the label and field 1 is noise.
func toy(n int, seed uint64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 3))
	ds := &Dataset{Fields: []string{"sig", "noise", "const"}, Vocab: []int{20, 30, 1}}
	eff := make([]float64, 20)
	for i := range eff {
		eff[i] = r.NormFloat64() * 2
	}
	for s := 0; s < n; s++ {
		a, b := int32(r.IntN(20)), int32(r.IntN(30))
		ds.IDs = append(ds.IDs, a, b, 0)
		y := float32(0)
		if r.Float64() < 1/(1+math.Exp(-eff[a])) {
			y = 1
		}
		ds.Labels = append(ds.Labels, y)
	}
	return ds
}

func TestAUCAndSpearman(t *testing.T) {
	if a := AUC([]float32{0.1, 0.4, 0.35, 0.8}, []float32{0, 0, 1, 1}); math.Abs(a-0.75) > 1e-12 {
		t.Fatalf("AUC %v", a)
	}
	if a := AUC([]float32{0.5, 0.5}, []float32{0, 1}); a != 0.5 {
		t.Fatalf("tied AUC %v", a)
	}
	if s := Spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}); math.Abs(s-1) > 1e-12 {
		t.Fatalf("spearman %v", s)
	}
	if s := Spearman([]float64{1, 2, 3}, []float64{3, 2, 1}); math.Abs(s+1) > 1e-12 {
		t.Fatalf("spearman %v", s)
	}
}

// The per-sample gradient with respect to the looked-up embeddings matches
// finite differences of the loss.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	ds := toy(50, 1)
	cfg := DefaultConfig()
	cfg.Hidden = []int{32, 16}
	m, err := New(cfg, ds)
	if err != nil {
		t.Fatal(err)
	}
	// Larger embeddings keep pre-activations away from the ReLU kinks,
	// where finite differences say nothing.
	for _, e := range m.Emb {
		for i := range e.(*core.Table).Data {
			e.(*core.Table).Data[i] *= 20
		}
	}
	loss := func(x []float32, y float32) float64 {
		w := m.newWork()
		copy(w.x, x)
		return logloss(float64(m.forward(w)), float64(y))
	}
	checked := 0
	err = m.Grads(ds, func(_, s int, x, gx []float32) {
		if s >= 5 {
			return
		}
		xx := append([]float32{}, x...)
		for j := range xx {
			h := float32(1e-3)
			orig := xx[j]
			xx[j] = orig + h
			up := loss(xx, ds.Labels[s])
			xx[j] = orig - h
			dn := loss(xx, ds.Labels[s])
			xx[j] = orig
			num := (up - dn) / float64(2*h)
			if math.Abs(num-float64(gx[j])) > 2e-3+0.05*math.Abs(num) {
				t.Errorf("sample %d input %d: backprop %v, finite difference %v", s, j, gx[j], num)
			}
			checked++
		}
	})
	if err != nil || checked == 0 {
		t.Fatal(err, checked)
	}
}

// Training gives bit-identical models whatever the worker count.
func TestDeterministicAcrossWorkers(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 400 // the race detector slows training twentyfold
	}
	ds := toy(n, 2)
	train, valid := ds.Split(0.2, 1)
	var ref *Model
	for _, w := range []int{1, 2, 7} {
		cfg := DefaultConfig()
		cfg.Workers = w
		m, _ := New(cfg, train)
		if _, err := m.Train(train, valid, 2, nil); err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = m
			met, _ := m.Evaluate(valid)
			if !testing.Short() && met.AUC < 0.7 {
				t.Fatalf("toy model did not learn: AUC %v", met.AUC)
			}
			continue
		}
		for li := range m.Layers {
			for i, v := range m.Layers[li].W {
				if math.Float32bits(v) != math.Float32bits(ref.Layers[li].W[i]) {
					t.Fatalf("workers=%d: layer %d weight %d differs", w, li, i)
				}
			}
		}
		for f := range m.Emb {
			a, b := m.Emb[f].(*core.Table).Data, ref.Emb[f].(*core.Table).Data
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("workers=%d: table %d differs", w, f)
				}
			}
		}
	}
}

func TestPruneShrinksInput(t *testing.T) {
	ds := toy(500, 3)
	m, _ := New(DefaultConfig(), ds)
	before := m.Layers[0].In
	if err := m.Prune(1); err != nil {
		t.Fatal(err)
	}
	if m.Layers[0].In != before-m.Cfg.Dim || m.Active(1) || len(m.Slots) != 2 {
		t.Fatalf("after prune: in %d, slots %v", m.Layers[0].In, m.Slots)
	}
	if _, err := m.Train(ds, nil, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Prune(1); err == nil {
		t.Fatal("pruned twice")
	}
}

// More workers than the cores (and than the buffer pool holds) predict
// the same probabilities as one, and return: Predict deadlocked when more
// goroutines gave back buffers than the pool had room for.
func TestPredictWorkersBeyondCores(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// Shards long enough that goroutines are preempted holding buffers.
	ds := toy(200*ShardSize, 4)
	cfg := DefaultConfig()
	cfg.Workers, cfg.Hidden = 1, []int{256, 256}
	m, err := New(cfg, ds)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m.Predict(ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{4, 19} {
		m.Cfg.Workers = w
		done := make(chan []float32, 1)
		go func() { p, _ := m.Predict(ds); done <- p }()
		select {
		case p := <-done:
			for i := range p {
				if math.Float32bits(p[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("workers=%d: sample %d differs", w, i)
				}
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("workers=%d on 1 core: Predict never returned", w)
		}
	}
	if err := (Config{Dim: 8, Optimizer: "adam", LR: 1, Batch: 1, Workers: MaxWorkers + 1}).Validate(); err == nil {
		t.Fatal("a worker count past MaxWorkers was taken")
	}
}

// The worker count is this run's and never read from a file: a model
// saved with --workers 8 hung eval on smaller machines, and a crafted
// count of a billion would start as many goroutines.
func TestWorkersNotSaved(t *testing.T) {
	b, err := msgpack.Marshal(map[string]any{"Dim": 8, "Workers": 1 << 30, "workers": 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := msgpack.Unmarshal(b, &c); err != nil || c.Workers != 0 || c.Dim != 8 {
		t.Fatalf("decoded %+v, %v", c, err)
	}
	if b, _ = msgpack.Marshal(Config{Workers: 8}); bytes.Contains(bytes.ToLower(b), []byte("workers")) {
		t.Fatal("the worker count is saved")
	}
}
