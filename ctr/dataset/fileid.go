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
	// Valid is the share of the rows not held out that training kept out
	// as validation rows, never fitted, chosen by ValidSeed (HeldOut), so
	// that prune and compress choose on rows the model never saw and not
	// on the held-out rows they report. 0: none (files written before
	// shark kept them, or trained with --valid 0).
	Valid     float64 `msgpack:"valid,omitempty" json:"valid,omitempty"`
	ValidSeed uint64  `msgpack:"valid_seed,omitempty" json:"valid_seed,omitempty"`
}

// ValidSeed is the seed of the validation rows of a model trained with
// seed: another draw than the held-out split's, so the two shares are
// independent of each other.
func ValidSeed(seed uint64) uint64 { return seed ^ 0x76616c6964 } // "valid"

// InValidShare reports whether training on the file of on keeps the row of
// key k out as a validation row: not held out, and in the validation share
// of the rest. (Training.Valid records the rows so kept, by content.)
func (on TrainedOn) InValidShare(k RowKey) bool {
	return on.Valid > 0 && !HeldOut(k, on.Split, on.Seed) && HeldOut(k, on.Valid, on.ValidSeed)
}

// HasValidation reports whether on records validation rows.
func (on TrainedOn) HasValidation() bool { return on.Valid > 0 }

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
	// Valid holds the keys of the validation rows training kept out
	// (TrainedOn.Valid), so that they are found again by their content in
	// any file, order or line ends, never fitted and never reported as
	// held-out. nil: none recorded (older files, or --valid 0).
	Valid *RowSet `msgpack:"valid,omitempty" json:"valid,omitempty"`
}

// Validation reports whether the row of key k is one of the validation
// rows the model was never trained on.
func (t *Training) Validation(k RowKey) bool {
	return t != nil && t.Valid != nil && t.Valid.Has(k) && !t.Trained(k)
}

// WithValid is t with the rows of keys recorded as its validation rows.
func (t *Training) WithValid(keys []RowKey) *Training {
	out := *t
	out.Valid = NewRowSet(len(keys))
	for _, k := range keys {
		out.Valid.Add(k)
	}
	return &out
}

// ValidShare is the record of the file whose validation share training
// kept out, if any.
func (t *Training) ValidShare() (TrainedOn, bool) {
	for _, on := range t.On {
		if on.HasValidation() {
			return on, true
		}
	}
	return TrainedOn{}, false
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
	if t.Valid != nil {
		if err := t.Valid.Check(); err != nil {
			return err
		}
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
	out := &Training{Test: t.Test, Rows: t.Rows, Valid: t.Valid}
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
