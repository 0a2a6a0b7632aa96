package main

import (
	"fmt"
	"io"

	"shark/formats/convert"
)

func runExample(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("example", "-o DIR [--seed S]", `
Writes a synthetic exported model to DIR: model.npz (a 20000 x 32 and an
8000 x 64 embedding table, and a small dense tower) and counts.npz (Zipf-skewed
per-row access counts <table>.pos and <table>.neg), for trying quantize
without data of your own.`, stderr)
	out := fs.String("o", "", "output directory (required)")
	seed := fs.Uint64("seed", 1, "random seed")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *out == "" {
		return fmt.Errorf("%w: want -o DIR", errUsage)
	}
	model, counts, err := convert.ExampleFiles(*out, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", model, counts)
	return nil
}
