package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/ctr/counts"
	"shark/ctr/modelfile"
	"shark/internal/atomicfile"
)

func (c *cli) countsCmd() *cobra.Command {
	var out string
	var onePeriod, skipBad bool
	var maxLine int
	cmd := &cobra.Command{
		Use:   "counts MODEL DATA... -o COUNTS.npz",
		Short: "access counts per table row from logged data, for quantize --counts",
		Long: `Counts F-Quantization's accesses: for every table of MODEL (a model made by
shark train) and each of its rows, how many positive and negative samples of
DATA looked the row up, encoded with the model's own feature encoding. Each
DATA file is a period, oldest first (--one-period puts them all in one), and
its format (Criteo TSV, CSV, libSVM, libFFM) is sniffed, so logs of several
formats count together. The output holds <table>.pos and <table>.neg, int64
[periods, rows]: what "shark quantize MODEL --counts COUNTS.npz" reads.
shark-dist counts (dist/) counts the same files on a cluster into the same
bytes.

--json prints {file, tables, periods, samples, skipped}.`,
		Args: minArgs(2, "MODEL and at least one DATA file"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := outputs([]string{out}, args...); err != nil {
				return err
			}
			l, err := modelfile.Load(args[0], false)
			if err != nil {
				return err
			}
			defer l.Close()
			files := args[1:]
			periods := len(files)
			if onePeriod {
				periods = 1
			}
			cs := counts.New(l, periods)
			var samples, skipped int64
			prog := c.updater()
			for i, f := range files {
				if prog != nil {
					prog("count "+f, int64(i), int64(len(files)))
				}
				st, err := cs.File(l, f, min(i, periods-1), counts.Options{SkipBad: skipBad, MaxLine: maxLine})
				if err != nil {
					return err
				}
				samples, skipped = samples+st.Rows, skipped+st.Skipped
			}
			c.prog.done()
			af, err := atomicfile.Create(out, args...)
			if err != nil {
				return err
			}
			if err := cs.WriteNPZ(af); err != nil {
				af.Abort()
				return err
			}
			if err := af.Commit(); err != nil {
				return err
			}
			if skipped > 0 {
				c.warn("skipped %d malformed rows", skipped)
			}
			if c.json {
				return c.result(map[string]any{"file": out, "tables": len(cs.Tables), "periods": periods, "samples": samples, "skipped": skipped})
			}
			fmt.Fprintf(c.stdout, "counted %s samples of %d file(s) into %d tables over %d period(s): %s\n",
				compress.Count(samples), len(files), len(cs.Tables), periods, out)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&out, "output", "o", "", "the counts file to write (.npz, required)")
	fs.BoolVar(&onePeriod, "one-period", false, "count every file into one period")
	fs.BoolVar(&skipBad, "skip-bad", false, "skip malformed rows (counted and reported)")
	fs.IntVar(&maxLine, "max-line", 0, "the longest line read, in bytes (0: the model's)")
	cmd.MarkFlagRequired("output")
	return cmd
}
