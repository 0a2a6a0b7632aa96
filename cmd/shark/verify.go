package main

import (
	"fmt"
	"io"

	"shark/formats"
	"shark/formats/sharkfile"
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
	verr := verify(pos[0])
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

func verify(path string) error {
	f, osf, err := formats.OpenFile(path)
	if err != nil {
		return err
	}
	defer osf.Close()
	if f.Format == "shark" {
		rd, err := sharkfile.NewReader(osf, f.Size)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := rd.Verify(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	for _, t := range f.Tensors {
		rc, err := t.Open()
		if err != nil {
			return fmt.Errorf("%s: tensor %q: %w", path, t.Name, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: tensor %q: %w", path, t.Name, err)
		}
		if n != t.Bytes {
			return fmt.Errorf("%s: tensor %q: %d bytes of data, its shape needs %d", path, t.Name, n, t.Bytes)
		}
	}
	return nil
}
