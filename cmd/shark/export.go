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
		Use:   "export IN.shark --to npz|safetensors -o OUT",
		Short: "write tables back out for NumPy or serving stacks",
		Long: `Writes a .shark file's contents for other tools. Every checksum is checked on
the way. Layouts:
  dequantized  each table as float32 under its original name (what
               np.load(OUT)[name] gives back), dense tensors unchanged
  tiers        per table and tier: <name>.<tier>.ids (int64 row ids) and
               <name>.<tier>.rows: float32 [n, D] (fp32), float16 [n, D]
               (fp16), uint8 [n, D+4] (int8) and uint8 [n, ceil(D/2)+4] (int4)
               in FBGEMM fused rowwise byte order (codes, fp16 scale, fp16
               bias), ready for FBGEMM/TorchRec inference kernels
OUT is written to a temporary file and renamed into place when complete.

--json prints {file, to, layout, bytes}.`,
		Args: exactArgs(1, "one input IN.shark"),
		RunE: func(_ *cobra.Command, args []string) error {
			if to != "npz" && to != "safetensors" {
				return usagef("--to %q: want npz or safetensors", to)
			}
			if layout != string(compress.Dequantized) && layout != string(compress.Tiers) {
				return usagef("--layout %q: want dequantized or tiers", layout)
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
			fmt.Fprintf(c.stdout, "wrote %s (%s, %s layout, %s)\n", out, to, layout, compress.Size(st.Size()))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&to, "to", "", "the format to write: npz or safetensors (required)")
	fs.StringVarP(&out, "output", "o", "", "the file to write (required)")
	fs.StringVar(&layout, "layout", string(compress.Dequantized), "dequantized or tiers")
	cmd.MarkFlagRequired("to")
	cmd.MarkFlagRequired("output")
	return cmd
}
