package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/ctr/counts"
	"shark/ctr/dataset"
	"shark/ctr/modelfile"
	"shark/internal/atomicfile"
)

func (c *cli) countsCmd() *cobra.Command {
	var out string
	var onePeriod bool
	var o counts.Options
	cmd := &cobra.Command{
		Use:   "counts MODEL DATA... -o COUNTS.npz",
		Short: "access counts per table row from logged data, for quantize --counts",
		Long: `Counts F-Quantization's accesses: for every table of MODEL (a model made by
shark train) and each of its rows, how many positive and negative samples of
DATA looked the row up, encoded with the model's own feature encoding. Each
DATA file is a period, oldest first (--one-period puts them all in one), or
--period-column COLUMN names each row's period in CSV logs: a whole number
(a day index) or a date (2026-11-30), every period from the oldest to the
newest counted, those without samples as zeros (at most 10,000). Each file's
format (Criteo TSV, CSV, libSVM, libFFM) is sniffed, so logs of several
formats count together. The output holds <table>.pos and <table>.neg, int64
[periods, rows]: what "shark quantize MODEL --counts COUNTS.npz" reads.
shark-dist counts (dist/) counts the same files on a cluster into the same
bytes.

--json prints {file, tables, periods, samples, skipped}.`,
		Args: minArgs(2, "MODEL and at least one DATA file"),
		RunE: func(_ *cobra.Command, args []string) error {
			if onePeriod && o.Column != "" {
				return usagef("--one-period and --period-column cannot go together: a period column names each row's period")
			}
			if err := outputs([]string{out}, args...); err != nil {
				return err
			}
			l, err := modelfile.Load(args[0], false)
			if err != nil {
				return err
			}
			defer l.Close()
			cs, st, err := c.countFiles(l, args[1:], onePeriod, o)
			if err != nil {
				return err
			}
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
			if st.Skipped > 0 {
				c.warn("skipped %d malformed rows", st.Skipped)
			}
			if c.json {
				return c.result(map[string]any{"file": out, "tables": len(cs.Tables), "periods": cs.Periods, "samples": st.Rows, "skipped": st.Skipped})
			}
			fmt.Fprintf(c.stdout, "counted %s samples of %d file(s) into %d tables over %d period(s): %s\n",
				compress.Count(st.Rows), len(args)-1, len(cs.Tables), cs.Periods, quoteName(out))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&out, "output", "o", "", "the counts file to write (.npz, required)")
	fs.BoolVar(&onePeriod, "one-period", false, "count every file into one period")
	fs.StringVar(&o.Column, "period-column", "", "the CSV column naming each row's period (a whole number or a date)")
	fs.BoolVar(&o.SkipBad, "skip-bad", false, "skip malformed rows (counted and reported)")
	fs.IntVar(&o.MaxLine, "max-line", 0, "the longest line read, in bytes (0: the model's)")
	cmd.MarkFlagRequired("output")
	return cmd
}

// countFiles counts files, a period each (or one), or by their period
// column, and lays the periods out oldest first.
func (c *cli) countFiles(l *modelfile.Loaded, files []string, onePeriod bool, o counts.Options) (*counts.Counts, dataset.Stats, error) {
	ps := counts.NewPeriods()
	var all dataset.Stats
	prog := c.updater()
	for i, f := range files {
		if prog != nil {
			prog("count "+f, int64(i), int64(len(files)))
		}
		period := int64(i)
		if onePeriod {
			period = 0
		}
		st, err := ps.File(l, f, period, o)
		if err != nil {
			return nil, all, err
		}
		all.Rows, all.Skipped = all.Rows+st.Rows, all.Skipped+st.Skipped
	}
	c.prog.done()
	first, last := int64(0), int64(len(files)-1)
	switch {
	case onePeriod:
		last = 0
	case o.Column != "":
		var ok bool
		if first, last, ok = ps.Span(); !ok {
			return nil, all, fmt.Errorf("%w: no samples in %d file(s), so no period to count", counts.ErrPeriods, len(files))
		}
	}
	cs, err := ps.Join(l, first, last)
	return cs, all, err
}
