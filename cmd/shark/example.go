package main

import (
	"fmt"
	"io"

	"shark/compress"
)

func runExample(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("example", "-o DIR [--seed S]", `
Writes a synthetic exported model to DIR: model.npz (a 20000 x 32 and an
8000 x 64 embedding table, and a small dense tower) and counts.npz (Zipf-skewed
per-row access counts <table>.pos and <table>.neg), for trying quantize
without data of your own.`, stderr)
	out := fs.String("o", "", "output directory (required)")
	seed := fs.Uint64("seed", 1, "random seed")
	big := fs.String("big", "", "instead, write one ROWSxDIM float32 table (big.npy, streamed) and Zipf counts (big-counts.npz), e.g. 8000000x64")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *out == "" {
		return fmt.Errorf("%w: want -o DIR", errUsage)
	}
	if *big != "" {
		var rows, dim int
		if _, err := fmt.Sscanf(*big, "%dx%d", &rows, &dim); err != nil || rows < 1 || dim < 1 {
			return fmt.Errorf("%w: --big wants ROWSxDIM, e.g. 8000000x64", errUsage)
		}
		table, counts, err := compress.BigExample(*out, rows, dim, *seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", table, counts)
		return nil
	}
	model, counts, err := compress.ExampleFiles(*out, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", model, counts)
	return nil
}
