package pipelines

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

func prismRun(_ context.Context, p *beam.Pipeline) error { return ptest.Run(p) }

// Taylor scores of 4 files, scored by the two passes on prism, equal those
// shark score gives the files joined into one, within 1e-9 relative.
func TestScoreEqualsTheCLIs(t *testing.T) {
	model, files := logs(t, 4, 2500)
	for i, f := range files { // one format here: shark score reads the model's
		if filepath.Ext(f) == ".svm" {
			files[i] = filepath.Join(filepath.Dir(f), "tsv", filepath.Base(f)+".tsv")
			os.MkdirAll(filepath.Dir(files[i]), 0o755)
			cli(t, "synth", "-o", files[i], "--rows", "2500", "--seed", "77")
		}
	}
	joined := filepath.Join(t.TempDir(), "all.tsv")
	var all []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all = append(all, b...)
	}
	os.WriteFile(joined, all, 0o644)
	var want struct {
		Fields []struct {
			Name   string
			Taylor float64
		}
	}
	if err := json.Unmarshal([]byte(cli(t, "score", model, joined, "--json")), &want); err != nil {
		t.Fatal(err)
	}
	got, rows, err := Score(context.Background(), ScoreOptions{Model: model, Files: files, Work: t.TempDir()}, prismRun)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Count != 4*2500 || rows.Excluded != 0 || len(got) != len(want.Fields) {
		t.Fatalf("rows %+v, %d fields; the CLI %d fields", rows, len(got), len(want.Fields))
	}
	sameScores(t, got, want.Fields)
}

// sameScores fails unless got equals the CLI's scores within 1e-9.
func sameScores(t *testing.T, got []FieldScore, want []struct {
	Name   string
	Taylor float64
}) {
	t.Helper()
	byName := map[string]float64{}
	for _, f := range want {
		byName[f.Name] = f.Taylor
	}
	worst := 0.0
	for _, f := range got {
		w := byName[f.Name]
		d := math.Abs(f.Taylor - w)
		if w != 0 {
			d /= math.Abs(w)
		}
		worst = max(worst, d)
		if d > 1e-9 {
			t.Fatalf("%s: %v, shark score %v", f.Name, f.Taylor, w)
		}
	}
	t.Logf("largest relative difference from shark score: %g", worst)
}

// On the model's own training file, alone and beside files it never saw,
// the pipelines score the rows shark score scores: those the model was not
// trained on (its record of its training rows) and not its validation
// rows, within 1e-9 of shark score's Taylor, the same count, and the
// training and validation rows left out counted.
func TestScoreHoldsOutTrainingRows(t *testing.T) {
	model, logs := logs(t, 2, 2000)
	train := filepath.Join(filepath.Dir(model), "train.tsv")
	for _, files := range [][]string{{train}, {train, logs[0]}} {
		joined := filepath.Join(t.TempDir(), "all.tsv")
		var all []byte
		for _, f := range files {
			b, _ := os.ReadFile(f)
			all = append(all, b...)
		}
		os.WriteFile(joined, all, 0o644)
		var want struct {
			Fields []struct {
				Name   string
				Taylor float64
			}
			Rows struct {
				Count      int64
				Excluded   int64
				Validation int64
			}
		}
		if err := json.Unmarshal([]byte(cli(t, "score", model, joined, "--json")), &want); err != nil {
			t.Fatal(err)
		}
		got, rows, err := Score(context.Background(), ScoreOptions{Model: model, Files: files, Work: t.TempDir()}, prismRun)
		if err != nil {
			t.Fatal(err)
		}
		if rows.Kind != RowsHeldOut || rows.Count != want.Rows.Count || rows.Excluded != want.Rows.Excluded || rows.Excluded == 0 ||
			rows.Validation != want.Rows.Validation || rows.Validation == 0 {
			t.Fatalf("%d file(s): rows %+v; shark score's %+v", len(files), rows, want.Rows)
		}
		sameScores(t, got, want.Fields)
		t.Logf("%s", rows.Text)
	}
}
