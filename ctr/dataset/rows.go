package dataset

import "fmt"

// Rows says which rows a score came from.
type Rows struct {
	Kind  string  `json:"kind"` // one of the Rows* kinds
	File  string  `json:"file"`
	Count int     `json:"count"`
	Of    int     `json:"of,omitempty"` // rows in the file, when Count is a part of them
	Split float64 `json:"split,omitempty"`
	Seed  uint64  `json:"seed,omitempty"`
	Text  string  `json:"text"` // for people: "held-out 2,000 of 10,000 rows of d.tsv, split 0.2 seed 1"
}

// Kinds of Rows.
const (
	RowsSplit    = "held-out split" // the share of the training file the model was not trained on
	RowsTestFile = "test file"      // every row of a separate test file
	RowsUnseen   = "unseen file"    // a file the model was never trained on
	RowsAll      = "all rows"       // every row, asked for, training rows included
)

// Count writes n with thousands separators: 28,860.
func Count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

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
