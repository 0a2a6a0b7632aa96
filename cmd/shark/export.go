package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"shark/compress"
)

func (c *cli) exportCmd() *cobra.Command {
	var to, out, layout string
	cmd := &cobra.Command{
		Use:   "export IN.shark --to npz|safetensors|pt -o OUT",
		Short: "write tables back out for NumPy, PyTorch or serving stacks",
		Long: `Writes a .shark file's contents for other tools: an .npz (np.load), a
.safetensors, or a PyTorch checkpoint (pt: torch.load(OUT, weights_only=True)
opens it). Every checksum is checked on the way. Layouts:
  dequantized  each table under its original name (what np.load(OUT)[name]
               or torch.load(OUT)[name] gives back) in its source's dtype:
               a float16 or bfloat16 model comes back float16 or bfloat16
               (int8 and int4 rows rounded to that dtype's nearest value,
               half a unit in its last place), float64 exactly; .npz gets
               bfloat16 tables as float32 (NumPy lacks bfloat16); dense
               tensors unchanged
  tiers        per table and tier: <name>.<tier>.ids (int64 row ids) and
               <name>.<tier>.rows: float32 [n, D] (fp32), float16 [n, D]
               (fp16), uint8 [n, D+4] (int8) and uint8 [n, ceil(D/2)+4] (int4)
               in FBGEMM fused rowwise byte order (codes, fp16 scale, fp16
               bias), ready for FBGEMM/TorchRec inference kernels
  torch        tiers in the layouts of PyTorch's quantized embedding-bag
               operators: int8 rows uint8 [n, D+8] (codes, fp32 scale, fp32
               bias), as embedding_bag_byte_prepack makes them, for
               torch.ops.quantized.embedding_bag_byte_rowwise_offsets; int4
               rows as embedding_bag_4bit_prepack makes them, for
               embedding_bag_4bit_rowwise_offsets (an odd width's rows end in a
               padding nibble, which the operator returns as one more column)
With --to pt, tiers means torch. The ids map a row of a tier back to the
table's row: look up row r of a tier as the operators' index of r in ids.
OUT is written to a temporary file and renamed into place when complete.

--json prints {file, to, layout, bytes}.`,
		Args: exactArgs(1, "one input IN.shark"),
		RunE: func(_ *cobra.Command, args []string) error {
			if to != "npz" && to != "safetensors" && to != "pt" {
				return usagef("--to %q: want %s", to, compress.Formats)
			}
			switch compress.Layout(layout) {
			case compress.Dequantized, compress.Tiers, compress.Torch:
			default:
				return usagef("--layout %q: want %s", layout, compress.Layouts)
			}
			if err := outputs([]string{out}, args[0]); err != nil {
				return err
			}
			in, err := compress.Open(args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			if err := compress.ExportFile(in, to, compress.Layout(layout), out); err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			if c.json {
				return c.result(map[string]any{"file": out, "to": to, "layout": layout, "bytes": st.Size()})
			}
			fmt.Fprintf(c.stdout, "wrote %s (%s, %s layout, %s)\n", quoteName(out), to, layout, compress.Size(st.Size()))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&to, "to", "", "the format to write: npz, safetensors or pt (required)")
	fs.StringVarP(&out, "output", "o", "", "the file to write (required)")
	fs.StringVar(&layout, "layout", string(compress.Dequantized), "dequantized, tiers or torch")
	cmd.MarkFlagRequired("to")
	cmd.MarkFlagRequired("output")
	return cmd
}
