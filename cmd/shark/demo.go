package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"shark/ctr/dataset"
	"shark/ctr/importance"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
	"shark/internal/atomicfile"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[--rows N] [--keep DIR]", `
The whole method on data shark makes itself: writes Criteo-format data with
planted signal and noise fields, trains the reference model, scores the tables
by Taylor and exact permutation, then compresses: keeps half the fields and
stores them within 40% of their fp32 bytes. Prints a short summary.`, stderr)
	rows := fs.Int("rows", 40000, "rows of synthetic data")
	keepDir := fs.String("keep", "", "keep the files in this directory (default: a temporary one, removed)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: demo takes no arguments", errUsage)
	}
	dir := *keepDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "shark-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	data := filepath.Join(dir, "synth.tsv")
	af, err := atomicfile.CreateAtomic(data)
	if err != nil {
		return err
	}
	truth, err := dataset.Synth(af, *rows, 10, 1)
	if err != nil {
		af.Abort()
		return err
	}
	if err := af.Commit(); err != nil {
		return err
	}
	sig, noise := truth.Signal()
	fmt.Fprintf(stdout, "1. data: %d Criteo-format rows, signal in %v (strongest first), noise in %v\n", *rows, sig, noise)

	opt := dataset.Options{Format: "criteo"}
	enc, _, err := dataset.Build(dataset.FileOpener(data, opt), opt, 2, false)
	if err != nil {
		return err
	}
	ds, _, err := enc.Encode(dataset.FileOpener(data, opt), false)
	if err != nil {
		return err
	}
	cfg := model.DefaultConfig()
	train, valid := ds.Split(cfg.Split, cfg.Seed)
	m, err := model.New(cfg, train)
	if err != nil {
		return err
	}
	prog := newProgress(stderr)
	if _, err := m.Train(train, nil, cfg.Epochs, func(d, t int64) { prog.update("train", d, t) }); err != nil {
		return err
	}
	prog.done()
	met, _ := m.Evaluate(valid)
	fmt.Fprintf(stdout, "2. model: %d fields x %d dims, MLP %v; held-out AUC %.4f on %d rows; %s of embeddings\n",
		len(m.Fields), cfg.Dim, cfg.Hidden, met.AUC, valid.Rows(), humanBytes(m.EmbeddingBytes()))
	if err := modelfile.Save(filepath.Join(dir, "model.shark"), m, enc, nil, nil, map[string]string{"tool": "shark " + version}, nil); err != nil {
		return err
	}

	sc, err := scoreFields(m, valid, true, 3, prog)
	if err != nil {
		return err
	}
	tay, _ := importance.Taylor(m, valid)
	top := topFields(m, tay, 7)
	fmt.Fprintf(stdout, "3. F-Permutation: Taylor ranks %v on top; Spearman with exact permutation %.3f; Taylor %.3fs vs exact %.3fs (%.0fx)\n",
		top, *sc.Spearman, sc.Seconds["taylor"], sc.Seconds["exact"], sc.Seconds["exact"]/sc.Seconds["taylor"])

	popt := pipeline.DefaultOptions()
	popt.PriorityEpochs = cfg.Epochs
	// Synth leaves most Criteo columns empty: keep half of the fields that
	// carry values (the empty ones score exactly 0 and go first).
	varying := 0
	for _, v := range importance.Varying(valid) {
		if v {
			varying++
		}
	}
	popt.Keep = max(1, varying/2)
	res, err := pipeline.Compress(m, train, valid, popt)
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "compressed.shark")
	if err := modelfile.Save(out, m, enc, res.TierOf, nil, map[string]string{"tool": "shark " + version}, res.Scores); err != nil {
		return err
	}
	st, _ := os.Stat(out)
	fmt.Fprintf(stdout, "4. compress (keep the best %d of the %d fields with values, 40%% budget): %s\n", popt.Keep, varying, res.Describe())
	fmt.Fprintf(stdout, "   kept %v\n", res.KeptFields)
	fmt.Fprintf(stdout, "   model file %s (%s); done in %.1fs\n", out, humanBytes(st.Size()), time.Since(t0).Seconds())
	return nil
}

func topFields(m *model.Model, score []float64, n int) []string {
	idx := append([]int{}, m.Slots...)
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && score[idx[j]] > score[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	var out []string
	for _, f := range idx[:min(n, len(idx))] {
		out = append(out, m.Fields[f])
	}
	return out
}
