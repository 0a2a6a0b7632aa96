package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
			var rows, dim int
			names := []string{"model.npz", "counts.npz"}
			if big != "" {
				if _, err := fmt.Sscanf(big, "%dx%d", &rows, &dim); err != nil {
					return usagef("--big %q: want ROWSxDIM, e.g. 8000000x64", big)
				}
				if err := checkBig(rows, dim); err != nil {
					return err
				}
				names = []string{"big.npy", "big-counts.npz"}
			}
			made, err := exampleDir(out, names)
			if err != nil {
				return err
			}
			var model, counts string
			if big != "" {
				model, counts, err = compress.BigExample(out, rows, dim, seed)
			} else {
				model, counts, err = compress.ExampleFiles(out, seed)
			}
			if err != nil {
				if made {
					os.Remove(out) // only if still empty: a folder of ours, nothing else
				}
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

// exampleDir makes dir for example's files unless it exists, reporting
// whether it made it. Files of those names already there are refused: an
// example never replaces a file of the user's.
func exampleDir(dir string, names []string) (made bool, err error) {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); err == nil {
			return false, usagef("%s exists: example writes new files only (remove it, or name another folder)", quoteName(p))
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}
