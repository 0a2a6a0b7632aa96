package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/formats/onnx"
)

func (c *cli) exportCmd() *cobra.Command {
	var to, out, layout, graph string
	cmd := &cobra.Command{
		Use:   "export IN.shark --to npz|safetensors|pt|onnx -o OUT",
		Short: "write tables back out for NumPy, PyTorch, ONNX Runtime or serving stacks",
		Long: `Writes a .shark file's contents for other tools: an .npz (np.load), a
.safetensors, or a PyTorch checkpoint (pt: torch.load(OUT, weights_only=True)
opens it). Every checksum is checked on the way. Layouts:
  dequantized  each table under its original name (what np.load(OUT)[name]
               or torch.load(OUT)[name] gives back) in its source's dtype:
               a float16 or bfloat16 model comes back float16 or bfloat16
               (rows of the quantized tiers, int8 to int2-block, rounded to
               that dtype's nearest value, half a unit in its last place),
               float64 exactly; .npz gets bfloat16 tables as float32 (NumPy
               lacks bfloat16); dense tensors unchanged
  tiers        per table and tier: <name>.<tier>.ids (int64 row ids) and
               <name>.<tier>.rows: float32 [n, D] (fp32), float16 [n, D]
               (fp16), uint8 [n, D+4] (int8), uint8 [n, ceil(D/2)+4] (int4)
               and uint8 [n, ceil(D/4)+4] (int2) in FBGEMM fused rowwise
               byte order (codes, fp16 scale, fp16 bias), ready for
               FBGEMM/TorchRec inference kernels; the block tiers
               (int8-block, int4-block, int2-block: codes with a scale and
               bias per block of rows) as the int8, int4 and int2 rows they
               are, each row's codes then its block's scale and bias. The
               tiers after int4 are written for tables whose rows take them
  torch        tiers in the layouts of PyTorch's quantized embedding-bag
               operators: int8 (and int8-block) rows uint8 [n, D+8] (codes,
               fp32 scale, fp32 bias), as embedding_bag_byte_prepack makes
               them, for torch.ops.quantized.embedding_bag_byte_rowwise_offsets;
               int4 and int2 (and int4-block, int2-block) rows as
               embedding_bag_4bit_prepack and embedding_bag_2bit_prepack make
               them, for embedding_bag_4bit_rowwise_offsets and
               embedding_bag_2bit_rowwise_offsets (a width short of whole
               bytes of codes gives the operator more columns, padding)
With --to pt, tiers means torch. The ids map a row of a tier back to the
table's row: look up row r of a tier as the operators' index of r in ids.
OUT is written to a temporary file and renamed into place when complete.

--to onnx writes an ONNX model (opset 13 or later) that ONNX Runtime runs,
each compressed table a quantized lookup of standard operators: each tier's
rows as stored (fp32, fp16, uint8 codes of int8, int4 two a byte and int2
four a byte, with an fp16 scale and bias a row, or a block of rows for
int8-block, int4-block and int2-block), an int32 a row locating it, and the
operators Gather, Clip, Sub, Less, Unsqueeze, Where, Cast, Mul, Add, Identity
(int4 and int2 codes unpacked by Floor, Mul, Sub and Concat; a block tier's
block found by Mod and Div), so a lookup gives exactly the dequantized rows
(in the table's source dtype); --layout does not apply.
  --graph MODEL.onnx  the ONNX model the .shark file was made from: OUT is
               that graph with each Gather of a table replaced by its
               quantized lookup, every other node and initializer as it
               was. Without --graph, when the .shark file records an .onnx
               input, that file beside IN.shark is taken if it is there
               (if not, a warning says so). The graph's tables must
               hold the values compressed (each within the table's
               largest error) and must not be an export's lookups.
  otherwise    a model of the lookups alone: per table an input
               "<table>.ids" (a 1-D list of int64 ids) and an output
               "<table>.rows" ([len(ids), dim]); dense tensors are left out.
A model past 2 GiB keeps its initializers of 1 KiB or more in OUT.data
beside it (ONNX external data). inspect shows the tables of such a model
as compressed.

--json prints {file, to, layout, bytes}; with --to onnx, layout is
"quantized-lookup", and graph (the .onnx used, or "") and against_bytes
(its size with its external data, or the tables' fp32 bytes) are added,
and warning when the .onnx the .shark file records is not beside it.`,
		Args: exactArgs(1, "one input IN.shark"),
		RunE: func(_ *cobra.Command, args []string) error {
			if to == "onnx" {
				if layout != string(compress.Dequantized) {
					return usagef("--layout %q: an ONNX export has one layout, its quantized lookups", layout)
				}
				return c.exportONNX(args[0], out, graph)
			}
			if to != "npz" && to != "safetensors" && to != "pt" {
				return usagef("--to %q: want %s or onnx", to, compress.Formats)
			}
			if graph != "" {
				return usagef("--graph is for --to onnx")
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
	fs.StringVar(&to, "to", "", "the format to write: npz, safetensors, pt or onnx (required)")
	fs.StringVarP(&out, "output", "o", "", "the file to write (required)")
	fs.StringVar(&layout, "layout", string(compress.Dequantized), "dequantized, tiers or torch")
	fs.StringVar(&graph, "graph", "", "with --to onnx: the .onnx model the .shark file was made from")
	cmd.MarkFlagRequired("to")
	cmd.MarkFlagRequired("output")
	return cmd
}

// exportONNX writes the .shark file as an ONNX model, with the graph it
// came from when there is one (--graph, or the .onnx its provenance
// names, found beside it).
func (c *cli) exportONNX(path, out, graphPath string) error {
	if err := outputs([]string{out, out + ".data"}, path, graphPath); err != nil {
		return err
	}
	in, err := compress.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	warning := ""
	if graphPath == "" {
		graphPath = compress.ONNXBeside(in)
		if want := compress.ONNXExpected(in); graphPath == "" && want != "" {
			warning = fmt.Sprintf("%s was made from %s, whose graph was not found at %s: wrote the quantized lookups alone (an input \"<table>.ids\" and an output \"<table>.rows\" a table); to export the whole model, pass the .onnx: shark export %s --to onnx --graph MODEL.onnx -o %s",
				quoteName(in.Name), quoteName(filepath.Base(want)), quoteName(want), quoteName(path), quoteName(out))
			c.warn("%s", warning)
		}
	}
	var graph *compress.Input
	if graphPath != "" {
		if graph, err = compress.Open(graphPath); err != nil {
			return err
		}
		defer graph.Close()
	}
	if err := compress.ExportONNXFile(context.Background(), in, graph, out, onnx.Options{}); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	// Against what it replaces: the fp32 model, or the tables at fp32.
	what, than, of := "the lookups alone", "the tables' fp32", tablesFP32(in)
	if graph != nil {
		what, than, of = "the graph of "+quoteName(graphPath), quoteName(graphPath), graph.File.InputBytes()
	}
	if c.json {
		res := map[string]any{"file": out, "to": "onnx", "layout": "quantized-lookup", "bytes": st.Size(), "graph": graphPath, "against_bytes": of}
		if warning != "" {
			res["warning"] = warning
		}
		return c.result(res)
	}
	fmt.Fprintf(c.stdout, "wrote %s (onnx, %s, %s: %s of %s %s)\n", quoteName(out), what, compress.Size(st.Size()),
		compress.Percent(st.Size(), of), than, compress.Size(of))
	return nil
}

// tablesFP32 is the fp32 bytes of the .shark file's compressed tables.
func tablesFP32(in *compress.Input) int64 {
	var n int64
	for _, t := range in.File.Tensors {
		if t.Tiers != nil && t.SameAs == "" && len(t.Shape) == 2 {
			n += t.Shape[0] * t.Shape[1] * 4
		}
	}
	return n
}
