package modelfile

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"shark/ctr/model"
	"shark/ctr/pipeline"
	"shark/ctr/dataset"
)

func synthData(t testing.TB, rows, fields int) (*dataset.Encoding, *model.Dataset, dataset.Truth) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.tsv")
	var buf bytes.Buffer
	truth, err := dataset.Synth(&buf, rows, fields, 1)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, buf.Bytes(), 0o644)
	opt := dataset.Options{Format: "criteo"}
	enc, _, err := dataset.Build(dataset.FileOpener(p, opt), opt, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := enc.Encode(dataset.FileOpener(p, opt), false)
	if err != nil {
		t.Fatal(err)
	}
	return enc, ds, truth
}

func trained(t testing.TB, ds *model.Dataset, seed uint64) (*model.Model, *model.Dataset, *model.Dataset) {
	cfg := model.DefaultConfig()
	cfg.Seed = seed
	train, valid := ds.Split(cfg.Split, seed)
	m, err := model.New(cfg, train)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Train(train, nil, cfg.Epochs, nil); err != nil {
		t.Fatal(err)
	}
	return m, train, valid
}

// On data with planted truth, Taylor puts every signal field above every
// noise field and agrees with exact permutation.
func TestTaylorFindsPlantedSignal(t *testing.T) {
	for _, fields := range []int{8, 12} {
		_, ds, truth := synthData(t, 20000, fields)
		m, _, valid := trained(t, ds, 1)
		e, err := pipeline.RunTaylor(m, valid, 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		score := map[string]float64{}
		for i, f := range e.Fields {
			score[f] = e.Taylor[i]
		}
		sig, noise := truth.Signal()
		for _, s := range sig {
			for _, n := range noise {
				if score[s] <= score[n] {
					t.Errorf("%d fields: signal %s (%.4g) not above noise %s (%.4g)", fields, s, score[s], n, score[n])
				}
			}
		}
		t.Logf("%d fields: Spearman %.3f over %d varying fields (%.3f over all); Taylor %.3fs, exact %.3fs", fields, e.Spearman, e.Varying, e.SpearmanAll, e.TaylorSeconds, e.ExactSeconds)
		if fields == 8 && e.Spearman < 0.9 {
			t.Errorf("Spearman %.3f < 0.9", e.Spearman)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	enc, ds, _ := synthData(t, 3000, 6)
	m, train, valid := trained(t, ds, 2)
	want, _ := m.Evaluate(valid)
	dir := t.TempDir()
	p := filepath.Join(dir, "m.shark")
	if err := Save(p, m, enc, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := l.Model.Evaluate(valid)
	l.Close()
	if got != want || l.Compressed {
		t.Fatalf("reloaded model scores %+v, want %+v", got, want)
	}
	// Compressed: the file, read with dequantize-on-lookup, scores exactly
	// what the in-memory compressed model scored.
	opt := pipeline.DefaultOptions()
	res, err := pipeline.Compress(m, train, valid, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, m, enc, res.TierOf, nil, nil, res.Scores); err != nil {
		t.Fatal(err)
	}
	l, err = Load(p, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, _ = l.Model.Evaluate(valid)
	if !l.Compressed || got.AUC != res.AUCAfter || math.Abs(got.LogLoss-res.LogLossAfter) > 0 {
		t.Fatalf("compressed file scores %+v, in memory %v/%v", got, res.AUCAfter, res.LogLossAfter)
	}
	if err := l.File.Verify(); err != nil {
		t.Fatal(err)
	}
}

const criteo = "../../../shared/data/criteo-10k.tsv"

// The acceptance run on real Criteo rows: keep half the fields, a
// 40% budget; over three seeds the embedding bytes fall by at least 70% and
// the held-out AUC by no more than 0.01 on average.
func TestCriteoPipeline(t *testing.T) {
	if _, err := os.Stat(criteo); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	opt := dataset.Options{Format: "criteo"}
	enc, _, err := dataset.Build(dataset.FileOpener(criteo, opt), opt, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := enc.Encode(dataset.FileOpener(criteo, opt), false)
	if err != nil || ds.Rows() != 10000 {
		t.Fatal(err, ds.Rows())
	}
	drop := 0.0
	for seed := uint64(1); seed <= 3; seed++ {
		m, train, valid := trained(t, ds, seed)
		o := pipeline.DefaultOptions()
		o.PriorityEpochs = m.Cfg.Epochs
		o.Seed = seed
		r, err := pipeline.Compress(m, train, valid, o)
		if err != nil {
			t.Fatal(err)
		}
		red := 1 - float64(r.EmbeddingBytesAfter)/float64(r.EmbeddingBytesFP32)
		t.Logf("seed %d: %s", seed, r.Describe())
		if red < 0.70 {
			t.Errorf("seed %d: bytes fell by %.1f%% only", seed, 100*red)
		}
		if len(r.KeptFields) != 20 {
			t.Errorf("seed %d: kept %d fields", seed, len(r.KeptFields))
		}
		drop += (r.AUCBefore - r.AUCAfter) / 3
	}
	if drop > 0.01 {
		t.Fatalf("mean AUC drop %.4f > 0.01", drop)
	}
}
