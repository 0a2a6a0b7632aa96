package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Temp is an output written before its destination is known: a temporary
// file, placed later by SaveAs where the user chooses. Writing it is one
// pass with flat memory, whatever its size.
type Temp struct {
	*os.File
	path  string // where the bytes are now
	moved bool   // SaveAs renamed it: path is a saved file, not a temporary
}

// CreateTemp starts a temporary output in dir (the system's temporary
// directory if dir cannot take it), its name from pattern as os.CreateTemp.
func CreateTemp(dir, pattern string) (*Temp, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		if f, err = os.CreateTemp("", pattern); err != nil {
			return nil, err
		}
	}
	return &Temp{File: f, path: f.Name()}, nil
}

// Finish flushes the written bytes to disk and closes the file.
func (t *Temp) Finish() error {
	if err := t.File.Sync(); err != nil {
		t.File.Close()
		return err
	}
	return t.File.Close()
}

// Size is the number of bytes written.
func (t *Temp) Size() (int64, error) {
	st, err := os.Stat(t.path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// SaveAs puts the finished output at dest, which must not be one of
// inputs: renamed when dest is on the same file system (the first time),
// copied through a temporary file beside dest otherwise. Either way dest
// appears whole or not at all.
func (t *Temp) SaveAs(dest string, inputs ...string) error {
	if err := checkOutput(dest, inputs); err != nil {
		return err
	}
	if !t.moved {
		err := os.Rename(t.path, dest)
		if err == nil {
			os.Chmod(dest, 0o644)
			t.path, t.moved = dest, true
			return nil
		}
		if !errors.Is(err, syscall.EXDEV) {
			return fmt.Errorf("saving %s: %w", dest, err)
		}
	}
	return t.copyTo(dest, inputs)
}

func (t *Temp) copyTo(dest string, inputs []string) error {
	src, err := os.Open(t.path)
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := Create(dest, inputs...)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Abort()
		return fmt.Errorf("saving %s: %w", dest, err)
	}
	return out.Commit()
}

// Remove deletes the temporary file, unless SaveAs made it a saved file.
func (t *Temp) Remove() {
	t.File.Close()
	if !t.moved {
		os.Remove(t.path)
	}
}
