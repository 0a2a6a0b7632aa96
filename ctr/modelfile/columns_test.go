package modelfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/pipeline"
)

// csvColumns writes synthetic rows as a CSV whose columns are named by
// header and written in the order of order (names from the header
// clicked,user,item,c,d,note, note being a column the model ignores).
func csvColumns(t *testing.T, path string, order []string) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := dataset.Synth(&buf, 3000, 4, 3); err != nil {
		t.Fatal(err)
	}
	names := []string{"clicked", "user", "item", "c", "d", "note"}
	var out strings.Builder
	out.WriteString(strings.Join(order, ",") + "\n")
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		cols := strings.Split(line, "\t")
		v := map[string]string{"clicked": cols[0], "note": []string{"x", "y", "z"}[i%3]}
		for k, name := range names[1:5] {
			v[name] = cols[14+k]
		}
		row := make([]string, len(order))
		for k, name := range order {
			row[k] = v[name]
		}
		out.WriteString(strings.Join(row, ",") + "\n")
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A CSV file read with a model's encoding is matched to its fields by
// header name: copies of the training file with two columns swapped, or
// every column moved, score the same held-out rows with the same AUC and
// leave out the same training rows; a renamed, missing or unknown column
// is refused by name.
func TestCSVColumnsByName(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "d.csv")
	csvColumns(t, orig, []string{"clicked", "user", "item", "c", "d", "note"})
	cfg := model.DefaultConfig()
	cfg.Split, cfg.Epochs = 0.25, 4
	read := dataset.Options{Format: "csv", Label: "clicked", Ignore: []string{"note"}}
	tr, err := pipeline.Train(pipeline.TrainOptions{Data: orig, Read: read, MinCount: 2, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "m.shark")
	if err := Save(p, tr.Model, tr.Encoding, Record{Training: tr.Training}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	score := func(order []string) (Data, float64, error) {
		path := filepath.Join(dir, strings.Join(order, "-")+".csv")
		csvColumns(t, path, order)
		d, err := l.Data(path, DataOptions{})
		if err != nil {
			return Data{}, 0, err
		}
		m, err := l.Model.Evaluate(d.Eval)
		if err != nil {
			t.Fatal(err)
		}
		return *d, m.AUC, nil
	}
	want, auc, err := score([]string{"clicked", "user", "item", "c", "d", "note"})
	if err != nil || want.Rows.Count != tr.Test.Rows() || want.Rows.Excluded != tr.Train.Rows() {
		t.Fatalf("the training file: %+v %v", want.Rows, err)
	}
	t.Logf("held-out AUC %.3f", auc)
	for _, order := range [][]string{
		{"clicked", "item", "user", "c", "d", "note"},
		{"d", "note", "c", "item", "clicked", "user"},
	} {
		d, a, err := score(order)
		if err != nil || a != auc || d.Rows.Count != want.Rows.Count || d.Rows.Excluded != want.Rows.Excluded ||
			!slices.Equal(d.Eval.Labels, want.Eval.Labels) || !slices.Equal(d.Eval.IDs, want.Eval.IDs) {
			t.Errorf("columns %v: AUC %v (want %v), %+v, %v", order, a, auc, d.Rows, err)
		}
	}
	for _, c := range []struct {
		order          []string
		missing, extra []string
	}{
		{[]string{"clicked", "a", "b", "c", "d", "note"}, []string{"user", "item"}, []string{"a", "b"}},
		{[]string{"clicked", "user", "item", "c", "note"}, []string{"d"}, nil},
		{[]string{"clicked", "user", "item", "c", "d", "note", "extra"}, nil, []string{"extra"}},
	} {
		_, _, err := score(c.order)
		var ce *dataset.ColumnsError
		if !errors.As(err, &ce) || !slices.Equal(ce.Missing, c.missing) || !slices.Equal(ce.Extra, c.extra) {
			t.Errorf("columns %v: %v, want missing %v, extra %v", c.order, err, c.missing, c.extra)
		}
	}
}
