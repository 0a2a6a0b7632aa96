// Package atomicfile writes outputs that appear whole or not at all: a
// temporary file beside the destination (with no name at all where Linux
// allows), placed under its name when complete. An interrupted run leaves
// no partial file under the final name; Cleanup removes what a signal
// interrupted, and a killed process leaves no named temporary where
// nameless ones are possible.
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
	*tempFile
	final string
	done  bool
}

// ErrSameFile: the output would overwrite an input.
var ErrSameFile = errors.New("output is the same file as an input")

// ErrReadOnly: the output names a file nobody may write (no w bit), which
// its owner made so to keep it; a rename could replace it all the same.
var ErrReadOnly = errors.New("output is a read-only file")

// Create starts writing path. inputs are files the output must not
// replace (an output equal to an input is refused before anything is written).
func Create(path string, inputs ...string) (*File, error) {
	path, err := throughLink(path)
	if err != nil {
		return nil, err
	}
	if err := checkOutput(path, inputs); err != nil {
		return nil, err
	}
	t, err := newTemp(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, err
	}
	return &File{tempFile: t, final: path}, nil
}

// Commit flushes the data to disk and puts it in place.
func (a *File) Commit() error {
	if a.done {
		return errors.New("atomic file already finished")
	}
	a.done = true
	err := a.File.Sync()
	if err == nil {
		err = a.place(a.final)
	}
	if err != nil {
		a.discard()
		return fmt.Errorf("writing %s: %w", a.final, err)
	}
	return a.File.Close()
}

// Abort removes the temporary file; safe to call after Commit (no-op).
func (a *File) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.discard()
}

// ErrSpecialOutput: the output names a device, a pipe or a socket. An
// output is placed by renaming a finished file over its name, which would
// replace the special file itself (a FIFO, /dev/null), so it is refused.
var ErrSpecialOutput = errors.New("not a regular file")

// ErrUnwritable: no file can be created in the output's folder.
var ErrUnwritable = errors.New("its folder takes no new file")

// CheckOutput refuses, before any work, an output path that is a
// directory, a special file or one of inputs (whatever its spelling:
// links, "..", hard links), and one whose folder takes no new file (or
// does not exist): it creates the temporary file the output would be
// written to, and removes it, so that a read-only folder fails now rather
// than after the work.
func CheckOutput(path string, inputs ...string) error {
	return checkWritable(path, inputs, filepath.Dir)
}

// CheckOutputInNewFolder is CheckOutput for an output whose folder the
// command makes (an experiment's report folder): the nearest folder above
// it that exists must take a file.
func CheckOutputInNewFolder(path string, inputs ...string) error {
	return checkWritable(path, inputs, existingDir)
}

func checkWritable(path string, inputs []string, dirOf func(string) string) error {
	path, err := throughLink(path)
	if err != nil {
		return err
	}
	if err := checkOutput(path, inputs); err != nil {
		return err
	}
	t, err := newTemp(dirOf(path), filepath.Base(path))
	if err != nil {
		return fmt.Errorf("output %s: %w (%w)", path, ErrUnwritable, err)
	}
	t.discard()
	return nil
}

// existingDir is path's folder, or its nearest ancestor that exists when a
// command is to make the folder (an experiment's report folder).
func existingDir(path string) string {
	dir := filepath.Dir(path)
	for {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return dir
		}
		dir = up
	}
}

func checkOutput(path string, inputs []string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	if err := checkRegular(path, st); err != nil {
		return err
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("%w: %s", ErrSameFile, path)
		}
	}
	if st.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%w: %s (%v): make it writable or choose another name", ErrReadOnly, path, st.Mode().Perm())
	}
	return nil
}

// throughLink is the file an output path names: a symbolic link's target,
// so that the file the link names is replaced and the link stays (the
// rename replaced the link itself). A link to nothing is refused.
func throughLink(path string) (string, error) {
	if path == "" {
		return "", errors.New("the output has no name")
	}
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeSymlink == 0 {
		return path, nil
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		// /dev/stdout on a pipe or socket links to "pipe:[N]" or "socket:[N]",
		// which is no file: say what it is.
		if st, serr := os.Stat(path); serr == nil {
			if err := checkRegular(path, st); err != nil {
				return "", err
			}
		}
		return "", fmt.Errorf("%w: %s is a link to nothing (%w)", ErrSpecialOutput, path, err)
	}
	return real, nil
}

// checkRegular refuses an existing output that is not a regular file
// (st is what it, or the file a link names, is).
func checkRegular(path string, st os.FileInfo) error {
	if st.Mode().IsRegular() || st.IsDir() {
		return nil
	}
	kind := "a device"
	switch {
	case st.Mode()&os.ModeNamedPipe != 0:
		kind = "a pipe (FIFO)"
	case st.Mode()&os.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("%w: %s is %s, which shark would replace with a file: write to a regular file instead", ErrSpecialOutput, path, kind)
}
