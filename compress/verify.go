package compress

import (
	"fmt"
	"io"
)

// Verify checks a file completely: for .shark, the preamble, trailer and
// header checksums, every block's CRC-32C, the block layout and each
// table's tier index; for the other formats, the header against the file
// and every tensor's data read to the end.
func Verify(path string) error {
	in, err := Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	if rd, ok := in.Shark(); ok {
		if err := rd.Verify(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	for _, t := range in.File.Tensors {
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
