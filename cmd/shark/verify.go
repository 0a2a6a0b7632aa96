package main

import (
	"fmt"
	"io"

	"shark/compress"
)

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "FILE", `
Checks a file completely. For .shark: the preamble, trailer and header
checksums, every block's CRC-32C, the block layout, and each table's tier
index. For .npy, .npz and .safetensors: the header against the file and every
tensor's data read to the end (an .npz member's CRC-32 included).
Exits 0 when all is well; otherwise prints what is wrong and where, exit 1.`, stderr)
	asJSON := fs.Bool("json", false, `print {"ok": true|false, "error": "..."}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want exactly one FILE", errUsage)
	}
	verr := compress.Verify(pos[0])
	if *asJSON {
		res := map[string]any{"ok": verr == nil, "file": pos[0]}
		if verr != nil {
			res["error"] = verr.Error()
		}
		if err := writeJSON(stdout, res); err != nil {
			return err
		}
	} else if verr == nil {
		fmt.Fprintf(stdout, "%s: ok\n", pos[0])
	}
	return verr
}
