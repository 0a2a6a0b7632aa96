package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

// The parts, the manifest and counts.npz are 0644 under a umask of 022,
// as the CLI's outputs are: other workers and a serving user on a shared
// mount read them. A part replacing an older one keeps that one's mode,
// as the CLI's outputs do.
func TestOutputsAreReadableByOthers(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	shards := shardedTable(t, dir, 4000, 8, 2)
	out := filepath.Join(dir, "out")
	res, err := Quantize(context.Background(), QuantizeOptions{Shards: shards, Settings: budget(0.3), Out: out, Work: t.TempDir()}, prismRun)
	if err != nil {
		t.Fatal(err)
	}
	model, files := logs(t, 1, 500)
	counts := filepath.Join(dir, "counts")
	if err := ptest.Run(Counts(CountsOptions{Model: model, Files: files, Out: counts})); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{res.Manifest, filepath.Join(out, "part-00000.shark"), filepath.Join(out, "part-00001.shark"), CountsFile(counts)} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v, want -rw-r--r--", p, st.Mode(), err)
		}
	}
	part := filepath.Join(out, "part-00000.shark")
	os.Chmod(part, 0o640)
	if _, err := Quantize(context.Background(), QuantizeOptions{Shards: shards, Settings: budget(0.3), Out: out, Work: t.TempDir()}, prismRun); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(part); st.Mode().Perm() != 0o640 {
		t.Errorf("a replaced part: %v, want the mode it had, -rw-r-----", st.Mode())
	}
}
