package main

import (
	"fmt"
	"io"

	"shark/compress"
)

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "IN.shark --to npz|safetensors -o OUT [--layout dequantized|tiers]", `
Writes a .shark file's contents for other tools. Every checksum is checked on
the way. Layouts:
  dequantized  each table as float32 under its original name (what
               np.load(OUT)[name] gives back), dense tensors unchanged
  tiers        per table and tier: <name>.<tier>.ids (int64 row ids) and
               <name>.<tier>.rows: float32 [n, D] (fp32), float16 [n, D]
               (fp16), uint8 [n, D+4] (int8) and uint8 [n, ceil(D/2)+4] (int4)
               in FBGEMM fused rowwise byte order (codes, fp16 scale, fp16
               bias), ready for FBGEMM/TorchRec inference kernels
OUT is written to a temporary file and renamed into place when complete.`, stderr)
	to := fs.String("to", "", "npz or safetensors (required)")
	out := fs.String("o", "", "output file (required)")
	layout := fs.String("layout", string(compress.Dequantized), "dequantized or tiers")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" || (*to != "npz" && *to != "safetensors") {
		return fmt.Errorf("%w: want IN.shark --to npz|safetensors -o OUT", errUsage)
	}
	if *layout != string(compress.Dequantized) && *layout != string(compress.Tiers) {
		return fmt.Errorf("%w: --layout is dequantized or tiers", errUsage)
	}
	in, err := compress.Open(pos[0])
	if err != nil {
		return err
	}
	defer in.Close()
	if err := compress.ExportFile(in, *to, compress.Layout(*layout), *out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", *out)
	return nil
}
