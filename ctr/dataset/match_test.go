package dataset

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// stringOpener opens a CSV held in a string.
func stringOpener(data string, opt Options) Opener {
	return func() (Reader, io.Closer, error) {
		r, err := Open(strings.NewReader(data), opt)
		return r, io.NopCloser(nil), err
	}
}

// Encoding a CSV matches its columns to the fields by name: a numeric
// column is bucketised wherever it stands, the row keys are those of the
// training order, and a period column the model never had is allowed.
func TestMatchByName(t *testing.T) {
	opt := Options{Format: "csv", Label: "y", Numeric: []string{"n"}}
	train := "y,u,n\n1,a,10\n0,b,3\n1,a,10\n0,b,3\n"
	e, _, err := Build(stringOpener(train, opt), opt, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	want, wantKeys, _, err := e.EncodeKeys(stringOpener(train, opt), false)
	if err != nil {
		t.Fatal(err)
	}
	moved := "day,n,y,u\n1,10,1,a\n1,3,0,b\n2,10,1,a\n2,3,0,b\n"
	popt := opt
	popt.Period = "day"
	got, keys, _, err := e.EncodeKeys(stringOpener(moved, popt), false)
	if err != nil || !slices.Equal(got.IDs, want.IDs) || !slices.Equal(keys, wantKeys) || !slices.Equal(got.Labels, want.Labels) {
		t.Fatalf("columns moved: %v %v, keys equal %v; want %v", got, err, slices.Equal(keys, wantKeys), want.IDs)
	}
	if _, _, _, err := e.EncodeKeys(stringOpener(moved, opt), false); err == nil || !strings.Contains(err.Error(), `the file's columns "day" are not fields of the model`) {
		t.Fatalf("an unknown column, not the period column: %v", err)
	}
}
