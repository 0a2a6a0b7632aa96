package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"shark/compress"
)

func (c *cli) inspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect FILE",
		Short: "list a model file's tensors (npy, npz, safetensors, shark)",
		Long: `Lists the tensors of a model file: .npy, .npz (np.savez or np.savez_compressed),
.safetensors or .shark, recognised by content. Only headers are read, so files
of any size open at once. The role "embedding table" marks what quantize
compresses by default (2-D float, at least 1000 rows); for a .shark file, bytes
are the stored bytes and tiers the rows per precision. Run "shark verify" to
check the data's checksums.

--json prints {name, format, bytes, size, facts, tensors: [{name, shape,
shape_text, dtype, bytes, size, role, table, tiers}], tables_fp32}.`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			in, err := compress.Open(args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			s := compress.Summarize(in)
			if c.json {
				return c.result(s)
			}
			fmt.Fprintf(c.stdout, "%s: %s\n\n", args[0], s.Facts)
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSHAPE\tDTYPE\tBYTES\tROLE\tTIERS (fp32/fp16/int8/int4)")
			for _, t := range s.Tensors {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", terminalSafe(t.Name), t.ShapeText, t.DType, t.Size, t.Role, compress.TierText(t.Tiers))
			}
			return tw.Flush()
		},
	}
}
