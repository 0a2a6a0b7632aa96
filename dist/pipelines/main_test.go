package pipelines

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

// shark is the single-machine CLI, built from the main module: what the
// pipelines must agree with.
var shark string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shark-dist-test-")
	if err != nil {
		panic(err)
	}
	shark = filepath.Join(dir, "shark")
	build := exec.Command("go", "build", "-o", shark, "./cmd/shark")
	build.Dir = filepath.Join("..", "..") // the main module
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building shark: %v\n%s", err, out)
		os.Exit(1)
	}
	code := ptest.MainRetWithDefault(m, "prism")
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the shark CLI and fails the test on an error.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(shark, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("shark %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// logs writes a trained model and n log files of Criteo data, every other
// one converted to libSVM (one index:value a field), and returns them.
func logs(t *testing.T, n, rows int) (model string, files []string) {
	t.Helper()
	dir := t.TempDir()
	train := filepath.Join(dir, "train.tsv")
	cli(t, "synth", "-o", train, "--rows", "6000", "--seed", "1")
	model = filepath.Join(dir, "model.shark")
	cli(t, "train", train, "-o", model, "--epochs", "1", "--dim", "4")
	for i := range n {
		f := filepath.Join(dir, fmt.Sprintf("log%d.tsv", i))
		cli(t, "synth", "-o", f, "--rows", fmt.Sprint(rows), "--seed", fmt.Sprint(10+i))
		if i%2 == 1 {
			f = toLibSVM(t, f)
		}
		files = append(files, f)
	}
	return model, files
}

// toLibSVM rewrites a Criteo TSV file as libSVM: the label, then each
// field's token as an index (an empty value as "e"), value 1.
func toLibSVM(t *testing.T, tsv string) string {
	t.Helper()
	in, err := os.Open(tsv)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := strings.TrimSuffix(tsv, ".tsv") + ".svm"
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		w.WriteString(cols[0])
		for _, c := range cols[1:] {
			if c == "" {
				c = "e"
			}
			w.WriteString(" " + c + ":1")
		}
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	os.Remove(tsv)
	return out
}
