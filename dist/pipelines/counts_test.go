package pipelines

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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

// With a period column, rows of the same days spread over 4 CSV files
// are counted by the day each names, with the days between as zeros: the
// bytes shark counts --period-column writes.
func TestCountsByPeriodColumnEqualTheCLIs(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	writeDayCSV(t, train, 3000, 0, 1)
	model := filepath.Join(dir, "model.shark")
	cli(t, "train", train, "-o", model, "--label", "clicked", "--ignore", "day", "--epochs", "1", "--dim", "4")
	var files []string
	for i := range 4 {
		f := filepath.Join(dir, fmt.Sprintf("log%d.csv", i))
		writeDayCSV(t, f, 2500, uint64(20+i), 3) // days 20401, 20403, 20405 of every file
		files = append(files, f)
	}
	want := filepath.Join(dir, "cli.npz")
	cli(t, append(append([]string{"counts", model}, files...), "--period-column", "day", "-o", want)...)
	out := filepath.Join(dir, "dist")
	if err := ptest.Run(Counts(CountsOptions{Model: model, Files: files, PeriodColumn: "day", Out: out})); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(want)
	b, err := os.ReadFile(CountsFile(out))
	if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatalf("the pipeline wrote %d bytes that differ from shark counts' %d (%v)", len(b), len(a), err)
	}
}

// writeDayCSV writes n rows of user,item,day,clicked, the days every
// other one of `days` from 20401 (0: one day).
func writeDayCSV(t *testing.T, path string, n int, seed uint64, days int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	var b strings.Builder
	b.WriteString("user,item,day,clicked\n")
	for range n {
		fmt.Fprintf(&b, "u%d,i%d,%d,%d\n", r.IntN(300), r.IntN(500), 20401+2*r.IntN(max(days, 1)), r.IntN(2))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
