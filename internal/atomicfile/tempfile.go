package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// tempFile is a file written before it has its final name. Where Linux
// allows it (O_TMPFILE) it has no name at all until it is placed, so that
// even a killed process leaves nothing behind; elsewhere it has a hidden
// name, kept in the registry that Cleanup empties.
type tempFile struct {
	*os.File
	dir  string
	name string // "" while the file has no name
}

// newTemp creates a temporary file in dir for an output named like base.
func newTemp(dir, base string) (*tempFile, error) {
	if f, err := openNameless(dir); err == nil {
		return &tempFile{File: f, dir: dir}, nil
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	register(f.Name())
	return &tempFile{File: f, dir: dir, name: f.Name()}, nil
}

// place gives the file the name final, atomically: a file of that name is
// replaced whole. A nameless file is linked under a hidden name first.
func (t *tempFile) place(final string) error {
	// Checked again at the last moment: a pipe, a device or a link made
	// under the name since the run began must not be renamed over either
	// (a link's target was resolved when the output was created).
	old, err := os.Lstat(final)
	if err == nil {
		if old.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s became a link while it was written", ErrSpecialOutput, final)
		}
		if err := checkRegular(final, old); err != nil {
			return err
		}
	} else {
		old = nil
	}
	if t.name == "" {
		name, err := linkNameless(t.File, filepath.Dir(final), "."+filepath.Base(final)+".tmp-")
		if err != nil {
			return err
		}
		register(name)
		t.name = name
	}
	if err := t.takeMode(old); err != nil {
		return err
	}
	if err := os.Rename(t.name, final); err != nil {
		return err
	}
	unregister(t.name)
	t.name = final
	return nil
}

// takeMode gives the file the permissions of the file it replaces, old,
// and its owner where the process may; or, for a new file, what any
// program's new file gets: 0666 less the umask (a temporary file is made
// 0600, so that nobody reads it half-written).
func (t *tempFile) takeMode(old os.FileInfo) error {
	if old == nil {
		return os.Chmod(t.name, 0o666&^umask())
	}
	if err := keepOwner(t.name, old); err != nil {
		return err
	}
	return os.Chmod(t.name, old.Mode().Perm())
}

// discard closes the file and removes its temporary name, if it has one.
func (t *tempFile) discard() {
	t.File.Close()
	if t.name != "" && registered(t.name) {
		os.Remove(t.name)
		unregister(t.name)
	}
}

// The registry of temporary names this process has made and not yet
// placed or removed.
var live sync.Map

func register(name string)        { live.Store(name, true) }
func unregister(name string)      { live.Delete(name) }
func registered(name string) bool { _, ok := live.Load(name); return ok }

// Cleanup removes every temporary file of this process that has a name:
// what a signal handler calls before the process exits, so that an
// interrupted run leaves nothing behind.
func Cleanup() {
	live.Range(func(k, _ any) bool {
		os.Remove(k.(string))
		live.Delete(k)
		return true
	})
}

// CreateScratch is a temporary file for the process's own use (spilled
// stats): it has no name from the start, so nothing is left behind
// however the process ends. Close it to free its space.
func CreateScratch(pattern string) (*os.File, error) {
	if f, err := openNameless(os.TempDir()); err == nil {
		return f, nil
	}
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil { // open files live on, unnamed
		f.Close()
		return nil, fmt.Errorf("scratch file %s: %w", f.Name(), err)
	}
	return f, nil
}

var errNoNameless = errors.New("no nameless temporary files here")
