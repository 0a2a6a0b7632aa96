// Package atomicfile writes outputs that appear whole or not at all: a
// temporary file beside the destination, renamed into place when complete.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is an output written to a temporary file in the destination's
// directory and renamed into place by Commit: an interrupted run never leaves
// a partial file under the final name.
type File struct {
	*os.File
	final string
	done  bool
}

// ErrSameFile: the output would overwrite an input.
var ErrSameFile = errors.New("output is the same file as an input")

// Create starts writing path. inputs are files the output must not
// replace (an output equal to an input is refused before anything is written).
func Create(path string, inputs ...string) (*File, error) {
	if err := checkOutput(path, inputs); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, final: path}, nil
}

// Commit flushes the data to disk and renames it into place.
func (a *File) Commit() error {
	if a.done {
		return errors.New("atomic file already finished")
	}
	a.done = true
	if err := a.File.Sync(); err != nil {
		a.File.Close()
		os.Remove(a.File.Name())
		return fmt.Errorf("writing %s: %w", a.final, err)
	}
	if err := a.File.Close(); err != nil {
		os.Remove(a.File.Name())
		return fmt.Errorf("writing %s: %w", a.final, err)
	}
	if err := os.Chmod(a.File.Name(), 0o644); err != nil {
		os.Remove(a.File.Name())
		return err
	}
	if err := os.Rename(a.File.Name(), a.final); err != nil {
		os.Remove(a.File.Name())
		return fmt.Errorf("writing %s: %w", a.final, err)
	}
	return nil
}

// Abort removes the temporary file; safe to call after Commit (no-op).
func (a *File) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}

// CheckOutput refuses an output path that is a directory or one of inputs
// (whatever its spelling: links, "..", hard links), before any work.
func CheckOutput(path string, inputs ...string) error { return checkOutput(path, inputs) }

func checkOutput(path string, inputs []string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("%w: %s", ErrSameFile, path)
		}
	}
	return nil
}
