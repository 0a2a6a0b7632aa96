package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/core"
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
all is well, and for .shark each compressed table's rows per tier (fp32,
fp16, int8 and int4 always; int2, int8-block, int4-block and int2-block
where rows take them); otherwise prints what is wrong and where, and
exits 1.

--json prints {file, ok, error, kind, exit, tables: [{name, rows, tiers}]}
(error, kind and exit on a failure, as every command's --json failure has them).`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			tables, verr := compress.VerifyTables(args[0])
			if c.json {
				res := map[string]any{"ok": verr == nil, "file": args[0]}
				if verr != nil { // as every --json failure says it (errorReport)
					res["error"], res["kind"], res["exit"] = verr.Error(), errorKind(verr, exitFailure), exitFailure
				}
				if tables != nil {
					res["tables"] = tables
				}
				if err := c.result(res); err != nil {
					return err
				}
			} else if verr == nil {
				fmt.Fprintf(c.stdout, "%s: ok\n", quoteName(args[0]))
				for _, t := range tables {
					fmt.Fprintf(c.stdout, "  %s: %s rows, %s\n", terminalSafe(t.Name), compress.Count(t.Rows), tierList(t.Tiers))
				}
			}
			return verr
		},
	}
}

// tierList writes named tier counts in tier order: "fp32 12, fp16 300, ...".
func tierList(m map[string]int64) string {
	var parts []string
	for t := core.Tier(0); t < core.NumTiers; t++ {
		if n, ok := m[t.String()]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", t, compress.Count(n)))
		}
	}
	return strings.Join(parts, ", ")
}
