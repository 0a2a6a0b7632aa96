//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(text)
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A file replaced keeps its permissions: an output a user made private
// stays private. A file nobody may write is refused, and kept.
func TestReplacedFileKeepsMode(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	for _, mode := range []os.FileMode{0o600, 0o640, 0o755} {
		os.Remove(out)
		os.WriteFile(out, []byte("old"), 0o600)
		os.Chmod(out, mode)
		write(t, out, "new")
		if st, err := os.Stat(out); err != nil || st.Mode().Perm() != mode {
			t.Errorf("replacing a %v file gave %v (%v)", mode, st.Mode().Perm(), err)
		}
	}
	os.Chmod(out, 0o444)
	if _, err := Create(out); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("a read-only output: %v, want ErrReadOnly", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Fatalf("the read-only file now holds %q", b)
	}
}

// A new file gets 0666 less the umask, as any program's would: under umask
// 077, 0600 (a child process, since the umask is the process's).
func TestNewFileTakesUmask(t *testing.T) {
	if out := os.Getenv("ATOMICFILE_UMASK_CHILD"); out != "" {
		write(t, out, "new")
		return
	}
	dir := t.TempDir()
	for _, c := range []struct{ umask, want int }{{0o077, 0o600}, {0o022, 0o644}, {0o002, 0o664}} {
		out := filepath.Join(dir, "out")
		os.Remove(out)
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNewFileTakesUmask$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_UMASK_CHILD="+out)
		old := syscall.Umask(c.umask) // inherited by the child
		err := cmd.Run()
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := int(st.Mode().Perm()); got != c.want {
			t.Errorf("umask %03o: new file %03o, want %03o", c.umask, got, c.want)
		}
	}
}
