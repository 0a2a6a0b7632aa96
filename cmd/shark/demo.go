package main

import (
	"fmt"
	"io"
	"os"

	"shark/compress"
	"shark/ctr/experiment"
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
	}
	prog := newProgress(stderr)
	res, err := experiment.Demo(experiment.DemoOptions{Dir: dir, Rows: *rows, Progress: prog.update,
		Provenance: func(step, input string) map[string]string {
			return compress.Provenance(compress.Origin{Step: step, Input: input, Data: "synth.tsv"})
		}})
	prog.done()
	if err != nil {
		return err
	}
	m, sc, c := res.Trained.Model, res.Scores, res.Compress
	fmt.Fprintf(stdout, "1. data: %d Criteo-format rows, signal in %v (strongest first), noise in %v\n", res.Rows, res.Signal, res.Noise)
	fmt.Fprintf(stdout, "2. model: %d fields x %d dims, MLP %v; held-out AUC %.4f on %d rows; %s of embeddings\n",
		len(m.Fields), m.Cfg.Dim, m.Cfg.Hidden, res.Trained.Metrics.AUC, res.Trained.Test.Rows(), compress.Size(c.EmbeddingBytesFP32))
	fmt.Fprintf(stdout, "3. F-Permutation: Taylor ranks %v on top; Spearman with exact permutation %.3f; Taylor %.3fs vs exact %.3fs (%.0fx)\n",
		res.Top, *sc.Spearman, sc.Seconds["taylor"], sc.Seconds["exact"], sc.Seconds["exact"]/sc.Seconds["taylor"])
	st, err := os.Stat(res.CompressedFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "4. compress (keep the best %d of the %d fields with values, 40%% budget): %s\n", res.Keep, res.Varying, c.Describe())
	fmt.Fprintf(stdout, "   kept %v\n", c.KeptFields)
	fmt.Fprintf(stdout, "   model file %s (%s); done in %.1fs\n", res.CompressedFile, compress.Size(st.Size()), res.Seconds)
	return nil
}
