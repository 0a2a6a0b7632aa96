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
	_, err := VerifyTables(path)
	return err
}

// VerifiedTable is a compressed table of a verified .shark file: its rows
// per tier, by name (TierMap: the default tiers always, the later ones
// its rows take).
type VerifiedTable struct {
	Name  string           `json:"name"`
	Rows  int64            `json:"rows"`
	Tiers map[string]int64 `json:"tiers"`
}

// VerifyTables is Verify, returning the compressed tables of a .shark
// file it found whole (none for the other formats).
func VerifyTables(path string) ([]VerifiedTable, error) {
	in, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	if rd, ok := in.Shark(); ok {
		if err := rd.Verify(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var out []VerifiedTable
		for _, t := range rd.Tables() {
			out = append(out, VerifiedTable{Name: t.Name(), Rows: int64(t.Rows()), Tiers: TierMap(t.Counts())})
		}
		return out, nil
	}
	return nil, verifyTensors(in, path)
}

// verifyTensors reads every tensor of a file of another format to its end.
func verifyTensors(in *Input, path string) error {
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
