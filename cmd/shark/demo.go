package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"shark/compress"
)

func (c *cli) demoCmd() *cobra.Command {
	var rows int
	var keep string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "synth, train, score, compress: the whole method in a minute",
		Long: `The whole method on data shark makes itself: writes Criteo-format data with
planted signal and noise fields, trains the reference model, scores the tables
by Taylor and exact permutation, then compresses: keeps half the fields that
carry values and stores them within 40% of their fp32 bytes. The data and the
models stay in ./shark-demo/ (or --keep DIR).

--json prints {data, rows, signal, noise, model, scores, top, varying_fields,
keep, compress, compressed, seconds}.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if rows < 100 {
				return usagef("--rows must be at least 100")
			}
			res, err := compress.Demo(context.Background(), compress.DemoOptions{Dir: keep, Rows: rows, Progress: c.updater()})
			c.prog.done()
			if err != nil {
				return err
			}
			if c.json {
				return c.result(res)
			}
			return c.printDemo(res)
		},
	}
	cmd.Flags().IntVar(&rows, "rows", 40000, "rows of synthetic data")
	cmd.Flags().StringVar(&keep, "keep", "shark-demo", "the directory the data and models are written to")
	return cmd
}

func (c *cli) printDemo(res *compress.DemoResult) error {
	m, sc, r := res.Trained.Model, res.Scores, res.Compress
	fmt.Fprintf(c.stdout, "1. data: %d Criteo-format rows in %s, signal in %v (strongest first), noise in %v\n", res.Rows, quoteName(res.Data), res.Signal, res.Noise)
	fmt.Fprintf(c.stdout, "2. model: %d fields x %d dims, MLP %v; AUC %.4f on %s; %s of embeddings\n",
		len(m.Fields), m.Cfg.Dim, m.Cfg.Hidden, res.Trained.Metrics.AUC, res.Trained.Rows.Text, compress.Size(r.EmbeddingBytesFP32))
	fmt.Fprintf(c.stdout, "3. F-Permutation: Taylor ranks %v on top; Spearman with exact permutation %.3f; Taylor %.3fs vs exact %.3fs (%.0fx)\n",
		res.Top, *sc.Spearman, sc.Seconds["taylor"], sc.Seconds["exact"], sc.Seconds["exact"]/sc.Seconds["taylor"])
	st, err := os.Stat(res.CompressedFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "4. compress (keep the best %d of the %d fields with values, 40%% budget): %s\n", res.Keep, res.Varying, r.Describe())
	fmt.Fprintf(c.stdout, "   kept %v\n", r.KeptFields)
	fmt.Fprintf(c.stdout, "   models %s and %s (%s); done in %.1fs. The files stay there.\n", quoteName(res.ModelFile), quoteName(res.CompressedFile), compress.Size(st.Size()), res.Seconds)
	return nil
}
