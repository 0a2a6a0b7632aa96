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
	_, err := VerifyFile(path)
	return err
}

// VerifiedTable is a compressed table of a verified .shark file: its rows
// per tier, by name (TierMap: the default tiers always, the later ones
// its rows take), and the rows per block of its block tiers when its rows
// take one.
type VerifiedTable struct {
	Name  string           `json:"name"`
	Rows  int64            `json:"rows"`
	Tiers map[string]int64 `json:"tiers"`
	Block int64            `json:"block,omitempty"`
}

// Verified is what VerifyFile found whole: a .shark file's container
// version ("2.0") and compressed tables (neither for the other formats).
type Verified struct {
	Version string
	Tables  []VerifiedTable
}

// VerifyFile is Verify, returning what it found of a .shark file whole.
func VerifyFile(path string) (*Verified, error) {
	in, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	rd, ok := in.Shark()
	if !ok {
		return nil, verifyTensors(in, path)
	}
	if err := rd.Verify(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v := &Verified{Version: fmt.Sprintf("%d.%d", rd.Header.Major, rd.Header.Minor)}
	blocks := map[string]int64{}
	for _, e := range rd.Header.Tensors {
		blocks[e.Name] = e.Block // set only where a block tier has rows
	}
	for _, t := range rd.Tables() {
		v.Tables = append(v.Tables, VerifiedTable{Name: t.Name(), Rows: int64(t.Rows()), Tiers: TierMap(t.Counts()), Block: blocks[t.Name()]})
	}
	return v, nil
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
