package pipelines

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

// Access counts of 4 log files in two formats, counted by 4 workers' worth
// of pipeline on prism, are the bytes shark counts writes for them, a
// period per file and in one period.
func TestCountsEqualTheCLIs(t *testing.T) {
	model, files := logs(t, 4, 3000)
	for _, one := range []bool{false, true} {
		dir := t.TempDir()
		args := append([]string{"counts", model}, files...)
		args = append(args, "-o", filepath.Join(dir, "cli.npz"))
		if one {
			args = append(args, "--one-period")
		}
		cli(t, args...)
		expanded, err := Expand(context.Background(), filepath.Join(filepath.Dir(files[0]), "log*"))
		if err != nil || len(expanded) != 4 {
			t.Fatalf("expand: %v %v", expanded, err)
		}
		if err := ptest.Run(Counts(CountsOptions{Model: model, Files: files, OnePeriod: one, Out: filepath.Join(dir, "dist")})); err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join(dir, "cli.npz"))
		got, err := os.ReadFile(CountsFile(filepath.Join(dir, "dist")))
		if err != nil || !bytes.Equal(got, want) || len(want) == 0 {
			t.Fatalf("one period %v: the pipeline wrote %d bytes that differ from shark counts' %d (%v)", one, len(got), len(want), err)
		}
	}
}
