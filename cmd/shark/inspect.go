package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"shark/formats"
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
	f, osf, err := formats.OpenFile(pos[0])
	if err != nil {
		return err
	}
	defer osf.Close()
	res, err := compress.Summarize(f, osf)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%s: %s, %s, %d tensors\n\n", pos[0], res.Format, humanBytes(res.Bytes), len(res.Tensors))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSHAPE\tDTYPE\tBYTES\tTABLE\tTIERS (fp32/fp16/int8/int4)")
	for _, t := range res.Tensors {
		shape := strings.Trim(strings.ReplaceAll(fmt.Sprint(t.Shape), " ", " x "), "[]")
		tiers := ""
		if t.Tiers != nil {
			tiers = fmt.Sprintf("%d/%d/%d/%d", t.Tiers["fp32"], t.Tiers["fp16"], t.Tiers["int8"], t.Tiers["int4"])
		}
		tbl := ""
		if t.Table {
			tbl = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, shape, t.DType, humanBytes(t.Bytes), tbl, tiers)
	}
	return tw.Flush()
}
