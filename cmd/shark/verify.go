package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"shark/compress"
)

func (c *cli) verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "check every checksum and invariant of a file",
		Long: `Checks a file completely. For .shark: the preamble, trailer and header
checksums, every block's CRC-32C, the block layout, and each table's tier
index. For .npy, .npz, .safetensors, PyTorch checkpoints and ONNX models: the
header against the file and every tensor's data read to the end (a zip
record's CRC-32 included, in an .npz and a checkpoint). Exits 0 when
all is well; otherwise prints what is wrong and where, and exits 1.

--json prints {file, ok, error}.`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			verr := compress.Verify(args[0])
			if c.json {
				res := map[string]any{"ok": verr == nil, "file": args[0]}
				if verr != nil {
					res["error"] = verr.Error()
				}
				if err := c.result(res); err != nil {
					return err
				}
			} else if verr == nil {
				fmt.Fprintf(c.stdout, "%s: ok\n", quoteName(args[0]))
			}
			return verr
		},
	}
}
