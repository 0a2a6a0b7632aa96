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

For .shark it also says the container version (2 holds the tiers after
int4) and, for a table whose rows take a block tier, its rows per block.

--json prints {file, ok, error, kind, exit, version, tables: [{name, rows,
tiers, block}]} (error, kind and exit on a failure, as every command's --json
failure has them; version and tables for .shark; block where a table's rows
take a block tier).`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			v, verr := compress.VerifyFile(args[0])
			if c.json {
				return c.verifyJSON(args[0], v, verr)
			}
			if verr == nil {
				c.verifyText(args[0], v)
			}
			return verr
		},
	}
}

// verifyJSON prints verify's --json result.
func (c *cli) verifyJSON(path string, v *compress.Verified, verr error) error {
	res := map[string]any{"ok": verr == nil, "file": path}
	if verr != nil { // as every --json failure says it (errorReport)
		res["error"], res["kind"], res["exit"] = verr.Error(), errorKind(verr, exitFailure), exitFailure
	}
	if v != nil {
		res["version"] = v.Version
		if v.Tables != nil {
			res["tables"] = v.Tables
		}
	}
	if err := c.result(res); err != nil {
		return err
	}
	return verr
}

// verifyText prints what verify found whole: for a .shark file its
// container version, and each table's rows per tier and block size.
func (c *cli) verifyText(path string, v *compress.Verified) {
	if v == nil {
		fmt.Fprintf(c.stdout, "%s: ok\n", quoteName(path))
		return
	}
	fmt.Fprintf(c.stdout, "%s: ok, container version %s\n", quoteName(path), v.Version)
	for _, t := range v.Tables {
		blocks := ""
		if t.Block > 0 {
			blocks = fmt.Sprintf("; block tiers in blocks of %s rows", compress.Count(t.Block))
		}
		fmt.Fprintf(c.stdout, "  %s: %s rows, %s%s\n", terminalSafe(t.Name), compress.Count(t.Rows), tierList(t.Tiers), blocks)
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
