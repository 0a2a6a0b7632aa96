package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FileID identifies a data file without keeping it: its base name, its size
// and the SHA-256 of its first MiB. Two files with the same size and head
// are taken for the same data, whatever their names.
type FileID struct {
	Name string `msgpack:"name" json:"name"`
	Size int64  `msgpack:"size" json:"size"`
	Head string `msgpack:"head" json:"head"` // hex SHA-256 of the first MiB
}

// Identify reads the head of the file at path.
func Identify(path string) (FileID, error) {
	// Stat before opening: opening a pipe blocks until it has a writer.
	st, err := os.Stat(path)
	if err != nil {
		return FileID{}, err
	}
	if !st.Mode().IsRegular() {
		return FileID{}, fmt.Errorf("%w: %s is not a regular file (a pipe or a device cannot be read the twice a data file is read)", ErrFormat, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return FileID{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, 1<<20); err != nil && err != io.EOF {
		return FileID{}, err
	}
	return FileID{Name: filepath.Base(path), Size: st.Size(), Head: hex.EncodeToString(h.Sum(nil))}, nil
}

// Same reports whether a and b are the same data.
func (a FileID) Same(b FileID) bool { return a.Size == b.Size && a.Head == b.Head }

// TrainedOn is rows of one data file a model was trained on: every row, or
// all but a held-out share chosen by a seed (model.Dataset.Split).
type TrainedOn struct {
	File  FileID  `msgpack:"file" json:"file"`
	Split float64 `msgpack:"split" json:"split"` // the held-out share; 0: every row was trained on
	Seed  uint64  `msgpack:"seed" json:"seed"`
}

// Training is what a model keeps of the data it was trained on, so that a
// number called held-out never comes from its training rows.
type Training struct {
	On   []TrainedOn `msgpack:"on" json:"on"`
	Test *FileID     `msgpack:"test,omitempty" json:"test,omitempty"` // the test file it was scored on, if any
	// Rows holds the keys of every row the model was trained on, a set per
	// training pass (train, then each fine-tuning), whatever files they
	// came from. Models saved before shark recorded them have none: for
	// those, only the file identities above tell training rows apart.
	Rows []*RowSet `msgpack:"rows,omitempty" json:"rows,omitempty"`
}

// RowsKnown reports whether the record holds the training rows' keys.
func (t *Training) RowsKnown() bool { return t != nil && len(t.Rows) > 0 }

// Trained reports whether the row of key k is one the model was trained on.
func (t *Training) Trained(k RowKey) bool {
	for _, s := range t.Rows {
		if s.Has(k) {
			return true
		}
	}
	return false
}

// Check refuses a record whose row sets are malformed.
func (t *Training) Check() error {
	if t == nil {
		return nil
	}
	for _, s := range t.Rows {
		if s == nil {
			return fmt.Errorf("%w: an empty set", ErrRowSet)
		}
		if err := s.Check(); err != nil {
			return err
		}
	}
	return nil
}

// WithRows is t with the rows of keys recorded as trained on, in a set of
// their own holding those it did not already have.
func (t *Training) WithRows(keys []RowKey) *Training {
	out := *t
	var fresh []RowKey
	for _, k := range keys {
		if !t.Trained(k) {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) > 0 {
		s := NewRowSet(len(fresh))
		for _, k := range fresh {
			s.Add(k)
		}
		out.Rows = append(append([]*RowSet{}, t.Rows...), s)
	}
	return &out
}

// Find is the record of file f, if the model was trained on it.
func (t *Training) Find(f FileID) (TrainedOn, bool) {
	for _, on := range t.On {
		if on.File.Same(f) {
			return on, true
		}
	}
	return TrainedOn{}, false
}

// With is t with on recorded (replacing an earlier record of its file),
// and test as the test file if set.
func (t *Training) With(on TrainedOn, test *FileID) *Training {
	out := &Training{Test: t.Test, Rows: t.Rows}
	for _, o := range t.On {
		if !o.File.Same(on.File) {
			out.On = append(out.On, o)
		}
	}
	out.On = append(out.On, on)
	if test != nil {
		out.Test = test
	}
	return out
}
