package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"shark/formats"
	"shark/formats/convert"
	"shark/formats/sharkfile"
)

type inspectTensor struct {
	Name  string           `json:"name"`
	Shape []int64          `json:"shape"`
	DType string           `json:"dtype"`
	Bytes int64            `json:"bytes"`
	Table bool             `json:"table"`
	Tiers map[string]int64 `json:"tiers,omitempty"`
}

type inspectResult struct {
	Format  string            `json:"format"`
	Bytes   int64             `json:"bytes"`
	Meta    map[string]string `json:"meta,omitempty"`
	Tensors []inspectTensor   `json:"tensors"`
}

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
	res := inspectResult{Format: f.Format, Bytes: f.Size, Meta: f.Meta, Tensors: []inspectTensor{}}
	var stored map[string]int64
	if f.Format == "shark" {
		st, _ := osf.Stat()
		rd, err := sharkfile.NewReader(osf, st.Size())
		if err != nil {
			return err
		}
		stored = map[string]int64{}
		for _, e := range rd.Header.Tensors {
			var b int64
			for _, blk := range append([]*sharkfile.Block{e.Data, e.Codes, e.Dir}, e.Rows...) {
				if blk != nil {
					b += blk.Len
				}
			}
			stored[e.Name] = b
		}
	}
	for _, t := range f.Tensors {
		it := inspectTensor{Name: t.Name, Shape: t.Shape, DType: string(t.DType), Bytes: t.Bytes, Table: t.IsTable(convert.DefaultMinRows) || t.Tiers != nil}
		if it.Shape == nil {
			it.Shape = []int64{}
		}
		if b, ok := stored[t.Name]; ok {
			it.Bytes = b
		}
		if t.Tiers != nil {
			it.Tiers = convert.TierMap(*t.Tiers)
		}
		res.Tensors = append(res.Tensors, it)
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
