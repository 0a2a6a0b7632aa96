package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"shark/compress"
)

func (c *cli) exampleCmd() *cobra.Command {
	var out, big string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "example -o DIR",
		Short: "write a synthetic model and access counts to try",
		Long: `Writes a synthetic exported model to DIR: model.npz (a 20000 × 32 and an
8000 × 64 embedding table, and a small dense tower) and counts.npz (Zipf-skewed
per-row access counts <table>.pos and <table>.neg), for trying quantize
without data of your own. --big ROWSxDIM writes one large float32 table
instead (big.npy, streamed) with its counts (big-counts.npz).

--json prints {model, counts}.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			var model, counts string
			var err error
			if big != "" {
				var rows, dim int
				if _, err := fmt.Sscanf(big, "%dx%d", &rows, &dim); err != nil {
					return usagef("--big %q: want ROWSxDIM, e.g. 8000000x64", big)
				}
				if err := checkBig(rows, dim); err != nil {
					return err
				}
				model, counts, err = compress.BigExample(out, rows, dim, seed)
			} else {
				model, counts, err = compress.ExampleFiles(out, seed)
			}
			if err != nil {
				return err
			}
			if c.json {
				return c.result(map[string]string{"model": model, "counts": counts})
			}
			fmt.Fprintf(c.stdout, "wrote %s and %s\n", quoteName(model), quoteName(counts))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the directory to write to (required)")
	cmd.MarkFlagRequired("output")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&big, "big", "", "write one ROWSxDIM float32 table and its counts instead, e.g. 8000000x64")
	return cmd
}
