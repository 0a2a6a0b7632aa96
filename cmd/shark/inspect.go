package main

import (
	"fmt"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"shark/compress"
)

func (c *cli) inspectCmd() *cobra.Command {
	var minRows int64
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "list a model file's tensors (npy, npz, safetensors, pt, onnx, shark)",
		Long: `Lists the tensors of a model file: .npy, .npz (np.savez or np.savez_compressed),
.safetensors, a PyTorch checkpoint (torch.save's zip: .pt, .pth, .bin), an ONNX
model (.onnx, with external data files beside it) or .shark, recognised by
content. Only headers are read, so files of any size open at once. A
checkpoint's tensors are named by their state_dict keys (a {"state_dict": ...}
wrapper is dropped); nothing in it is run: only what
torch.load(weights_only=True) allows is read. An ONNX model's initializers are
its tensors, and the Gather nodes reading one are shown. The role "embedding
table" marks what quantize compresses by default: a 2-D float tensor read by
a Gather node (at any depth of an ONNX model's subgraphs), named as the weight
of a PyTorch embedding module (emb_user.weight, emb_l.0.weight,
embedding_bags.t0.weight), or with at least --min-rows rows (1000); WHY says
which, or why a tensor is not a table. For a .shark file, bytes are the
stored bytes and tiers the rows per precision: fp32/fp16/int8/int4, then
int2, int8-block, int4-block and int2-block by name where a table's rows
take them ("0/0/103/1859 int2 1744"; --json names them the same way); the
facts give the container version (2 holds the tiers after int4), and WHY a
table's rows per block where its rows take a block tier. Run "shark verify"
to check the data's checksums.

--json prints {name, format, bytes, size, facts, meta, version, tensors:
[{name, shape, shape_text, dtype, bytes, size, role, table, why, tiers,
block, gathered_by}], tables_fp32} (version for .shark; block where a
table's rows take a block tier).`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			in, err := compress.Open(args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			s := compress.SummarizeRows(in, minRows)
			if c.json {
				return c.result(s)
			}
			fmt.Fprintf(c.stdout, "%s: %s\n", quoteName(args[0]), s.Facts)
			for _, k := range slices.Sorted(maps.Keys(s.Meta)) {
				fmt.Fprintf(c.stdout, "  %s: %s\n", terminalSafe(k), terminalSafe(s.Meta[k]))
			}
			fmt.Fprintln(c.stdout)
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSHAPE\tDTYPE\tBYTES\tROLE\tTIERS (fp32/fp16/int8/int4)\tWHY")
			for _, t := range s.Tensors {
				// WHY names the Gather nodes that read a table; TIERS
				// the later tiers a table's rows take by name.
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", terminalSafe(t.Name), t.ShapeText, t.DType, t.Size, t.Role, compress.TierText(t.Tiers), terminalSafe(t.Why))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().Int64Var(&minRows, "min-rows", compress.DefaultMinRows, "the size rule: 2-D float tensors with at least this many rows are tables")
	return cmd
}
