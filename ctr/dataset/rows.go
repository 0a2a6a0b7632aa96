package dataset

import (
	"fmt"

	"shark/internal/numfmt"
)

// Rows says which rows a score came from.
type Rows struct {
	Kind  string  `json:"kind"` // one of the Rows* kinds
	File  string  `json:"file"`
	Count int     `json:"count"`
	Of    int     `json:"of,omitempty"` // rows in the file, when Count is a part of them
	Split float64 `json:"split,omitempty"`
	Seed  uint64  `json:"seed,omitempty"`
	// Excluded is the rows of the file left out because the model was
	// trained on them (by their content, RowKey), not counted in Count.
	Excluded int `json:"excluded"`
	// Validation is the rows of the file left out because they are the
	// model's validation rows (dataset.Training.Valid), on which prune and
	// compress choose: never fitted, but not held out either.
	Validation int    `json:"validation,omitempty"`
	Text       string `json:"text"` // for people: "held-out 2,000 of 10,000 rows of d.tsv, split 0.2 seed 1"
}

// Kinds of Rows.
const (
	RowsSplit    = "held-out split" // the share of the training file the model was not trained on
	RowsTestFile = "test file"      // every row of a separate test file
	RowsUnseen   = "unseen file"    // a file the model was never trained on
	RowsAll      = "all rows"       // every row, asked for, training rows included
	RowsValid    = "validation"     // a share of the training file kept from fine-tuning, for pruning's choices
)

// Excluding is r with n training rows of its file left out, and its text
// saying so.
func (r Rows) Excluding(n int) Rows {
	r.Excluded = n
	switch {
	case n == 0:
	case r.Kind == RowsUnseen:
		r.Text = fmt.Sprintf("the %s rows of %s the model was not trained on; %s rows it was trained on left out", Count(r.Count), r.File, Count(n))
	default:
		r.Text += fmt.Sprintf("; %s rows the model was trained on left out", Count(n))
	}
	return r
}

// ExcludingValidation is r with n validation rows of its file left out,
// and its text saying so.
func (r Rows) ExcludingValidation(n int) Rows {
	r.Validation = n
	if n > 0 {
		r.Text += fmt.Sprintf("; %s validation rows left out", Count(n))
	}
	return r
}

// Count writes n with thousands separators: 28,860.
func Count(n int) string { return numfmt.Count(int64(n)) }

// HeldOutRows is n rows held out of all rows of file by split and seed.
func HeldOutRows(file string, n, all int, split float64, seed uint64) Rows {
	return Rows{Kind: RowsSplit, File: file, Count: n, Of: all, Split: split, Seed: seed,
		Text: fmt.Sprintf("held-out %s of %s rows of %s, split %g seed %d", Count(n), Count(all), file, split, seed)}
}

// TestFileRows is the n rows of a test file.
func TestFileRows(file string, n int) Rows {
	return Rows{Kind: RowsTestFile, File: file, Count: n, Text: fmt.Sprintf("test file %s, %s rows", file, Count(n))}
}

// UnseenRows is the n rows of a file the model was not trained on.
func UnseenRows(file string, n int) Rows {
	return Rows{Kind: RowsUnseen, File: file, Count: n, Text: fmt.Sprintf("all %s rows of %s, a file the model was not trained on", Count(n), file)}
}

// AllRows is every one of the n rows of a file, training rows included.
func AllRows(file string, n int) Rows {
	return Rows{Kind: RowsAll, File: file, Count: n, Text: fmt.Sprintf("all %s rows of %s, training rows included", Count(n), file)}
}

// ValidationRows is n rows of file, share split chosen by seed, kept out of
// fine-tuning for pruning's choices.
func ValidationRows(file string, n int, split float64, seed uint64) Rows {
	return Rows{Kind: RowsValid, File: file, Count: n, Split: split, Seed: seed,
		Text: fmt.Sprintf("validation %s rows of %s, split %g seed %d, kept out of fine-tuning", Count(n), file, split, seed)}
}

// HeldValidationRows is the n validation rows of all rows of file that
// training kept out, share valid of the rows not held out, chosen by seed:
// rows the model was never trained on.
func HeldValidationRows(file string, n, all int, valid float64, seed uint64) Rows {
	return Rows{Kind: RowsValid, File: file, Count: n, Of: all, Split: valid, Seed: seed,
		Text: fmt.Sprintf("validation %s of %s rows of %s (share %g of the training rows, seed %d), kept out of training: the model never fitted them", Count(n), Count(all), file, valid, seed)}
}
