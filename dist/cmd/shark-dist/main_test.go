package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bins are shark-dist as users run it, and the shark CLI that makes its
// inputs, built once for the tests.
var bins struct{ dist, shark string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shark-dist-cmd-")
	if err != nil {
		panic(err)
	}
	bins.dist, bins.shark = filepath.Join(dir, "shark-dist"), filepath.Join(dir, "shark")
	for _, b := range []struct{ out, pkg, dir string }{{bins.dist, ".", "."}, {bins.shark, "./cmd/shark", "../../.."}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", b.pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runDist runs shark-dist and returns its exit code, stdout and stderr.
func runDist(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bins.dist, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// Mistakes in the command line exit 2 with the reason, before any
// pipeline runs; nothing is written.
func TestUsageMistakes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "usage: shark-dist COMMAND"},
		{[]string{"shrink"}, `unknown command "shrink"`},
		{[]string{"counts", "model.shark"}, "want MODEL, at least one PATTERN and -o DIR"},
		{[]string{"counts", "model.shark", "logs.csv", "-o", out, "--one-period", "--period-column", "day"}, "cannot go together"},
		{[]string{"quantize", "shards.npy"}, "want at least one PATTERN and -o DIR"},
		{[]string{"quantize", "shards.npy", "-o", out, "--budget", "30"}, "--budget"},
		{[]string{"score", "model.shark", "--frobnicate"}, "frobnicate"},
	} {
		code, _, e := runDist(t, c.args...)
		if code != 2 || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, e, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a usage mistake wrote its output")
	}
}

// counts, run as users run it (on prism by default), prints its result as
// JSON with --json and writes the counts there; a log that cannot be read
// fails the job, naming it, with exit 1 and no counts written.
func TestCountsCommand(t *testing.T) {
	dir := t.TempDir()
	train, model := filepath.Join(dir, "train.tsv"), filepath.Join(dir, "model.shark")
	for _, args := range [][]string{
		{"synth", "-o", train, "--rows", "3000", "--seed", "1"},
		{"train", train, "-o", model, "--epochs", "1", "--dim", "4"},
	} {
		if out, err := exec.Command(bins.shark, args...).CombinedOutput(); err != nil {
			t.Fatalf("shark %v: %v\n%s", args, err, out)
		}
	}
	out := filepath.Join(dir, "counts")
	code, stdout, e := runDist(t, "counts", model, train, "-o", out, "--json")
	var res struct {
		File  string
		Files int
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Files != 1 || res.File != filepath.Join(out, "counts.npz") {
		t.Fatalf("exit %d, %q, %s", code, stdout, e)
	}
	if st, err := os.Stat(res.File); err != nil || st.Size() == 0 {
		t.Fatalf("counts: %v", err)
	}
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("not\ta\tcriteo\trow\n"), 0o644)
	out2 := filepath.Join(dir, "counts2")
	code, _, e = runDist(t, "counts", model, train, bad, "-o", out2)
	if code != 1 || !strings.Contains(e, "bad.tsv") {
		t.Fatalf("a bad log: exit %d, %q", code, e)
	}
	if _, err := os.Stat(filepath.Join(out2, "counts.npz")); err == nil {
		t.Fatal("a failed job wrote counts")
	}
}

// shark-dist version names the commit it was built from, as build.sh and
// release.sh stamp it (shark/internal/provenance.Version).
func TestVersionCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "shark-dist")
	cmd := exec.Command("go", "build", "-ldflags", "-X shark/internal/provenance.Version=abc1234", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	got, err := exec.Command(out, "version").Output()
	if err != nil || string(got) != "shark-dist abc1234\n" {
		t.Fatalf("shark-dist version: %q, %v; want %q", got, err, "shark-dist abc1234\n")
	}
	if code, _, e := runDist(t, "version", "extra"); code != 2 || !strings.Contains(e, "no arguments") {
		t.Fatalf("shark-dist version extra: exit %d, %q", code, e)
	}
}
