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
	got, n, err := Score(context.Background(), ScoreOptions{Model: model, Files: files, Work: t.TempDir()}, prismRun)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4*2500 || len(got) != len(want.Fields) {
		t.Fatalf("%d samples, %d fields; the CLI %d fields", n, len(got), len(want.Fields))
	}
	byName := map[string]float64{}
	for _, f := range want.Fields {
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
