package compress

import (
	"io"

	"shark/formats"
	"shark/formats/sharkfile"
)

// TensorSummary is one line of Summary.
type TensorSummary struct {
	Name  string           `json:"name"`
	Shape []int64          `json:"shape"`
	DType string           `json:"dtype"`
	Bytes int64            `json:"bytes"` // stored bytes (compressed, for a .shark table)
	Table bool             `json:"table"` // an embedding table: compressed, or what quantize would compress
	Tiers map[string]int64 `json:"tiers,omitempty"`
}

// Summary is what every face shows of an opened file ("shark inspect --json").
type Summary struct {
	Format  string            `json:"format"`
	Bytes   int64             `json:"bytes"`
	Meta    map[string]string `json:"meta,omitempty"`
	Tensors []TensorSummary   `json:"tensors"`
}

// Summarize describes f, opened from r: header information only.
func Summarize(f *formats.File, r io.ReaderAt) (*Summary, error) {
	s := &Summary{Format: f.Format, Bytes: f.Size, Meta: f.Meta, Tensors: []TensorSummary{}}
	stored := map[string]int64{}
	if f.Format == "shark" {
		rd, err := sharkfile.NewReader(r, f.Size)
		if err != nil {
			return nil, err
		}
		for _, e := range rd.Header.Tensors {
			for _, blk := range append([]*sharkfile.Block{e.Data, e.Codes, e.Dir}, e.Rows...) {
				if blk != nil {
					stored[e.Name] += blk.Len
				}
			}
		}
	}
	for _, t := range f.Tensors {
		ts := TensorSummary{Name: t.Name, Shape: t.Shape, DType: string(t.DType), Bytes: t.Bytes, Table: t.IsTable(DefaultMinRows) || t.Tiers != nil}
		if ts.Shape == nil {
			ts.Shape = []int64{}
		}
		if b, ok := stored[t.Name]; ok {
			ts.Bytes = b
		}
		if t.Tiers != nil {
			ts.Tiers = TierMap(*t.Tiers)
		}
		s.Tensors = append(s.Tensors, ts)
	}
	return s, nil
}
