package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"shark/compress"
)

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", "FILE [--json]", `
Lists the tensors of a model file: .npy, .npz (np.savez or np.savez_compressed),
.safetensors or .shark, recognised by content. Only headers are read, so files
of any size open at once. "table" marks the tensors that quantize would
compress by default (2-D float, at least 1000 rows). For a .shark file, bytes
are the stored bytes and tiers the rows per precision; run "shark verify" to
check the data's checksums.`, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object: {format, bytes, tensors: [{name, shape, dtype, bytes, table, tiers}]}")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want exactly one FILE", errUsage)
	}
	in, err := compress.Open(pos[0])
	if err != nil {
		return err
	}
	defer in.Close()
	res := compress.Summarize(in)
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%s: %s\n\n", pos[0], strings.ReplaceAll(res.Facts, " · ", ", "))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSHAPE\tDTYPE\tBYTES\tTABLE\tTIERS (fp32/fp16/int8/int4)")
	for _, t := range res.Tensors {
		tbl := ""
		if t.Table {
			tbl = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.ShapeText, t.DType, t.Size, tbl, compress.TierText(t.Tiers))
	}
	return tw.Flush()
}
