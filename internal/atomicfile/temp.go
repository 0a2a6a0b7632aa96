package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// Temp is an output written before its destination is known: a temporary
// file, placed later by SaveAs where the user chooses. Writing it is one
// pass with flat memory, whatever its size.
type Temp struct {
	*tempFile
	saved bool // SaveAs placed it: it is a saved file, not a temporary
}

// CreateTemp starts a temporary output in dir (the system's temporary
// directory if dir cannot take it), named like base while it has a name.
func CreateTemp(dir, base string) (*Temp, error) {
	t, err := newTemp(dir, base)
	if err != nil {
		if t, err = newTemp("", base); err != nil {
			return nil, err
		}
	}
	return &Temp{tempFile: t}, nil
}

// Finish flushes the written bytes to disk.
func (t *Temp) Finish() error { return t.File.Sync() }

// Size is the number of bytes written.
func (t *Temp) Size() (int64, error) {
	st, err := t.File.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// SaveAs puts the finished output at dest, which must not be one of
// inputs: placed there when dest is on the same file system (the first
// time), copied through a temporary file beside dest otherwise. Either way
// dest appears whole or not at all.
func (t *Temp) SaveAs(dest string, inputs ...string) error {
	dest, err := throughLink(dest)
	if err != nil {
		return err
	}
	if err := checkOutput(dest, inputs); err != nil {
		return err
	}
	if !t.saved {
		err := t.place(dest)
		if err == nil {
			t.saved = true
			return nil
		}
		if !errors.Is(err, syscall.EXDEV) {
			return fmt.Errorf("saving %s: %w", dest, err)
		}
	}
	return t.copyTo(dest, inputs)
}

func (t *Temp) copyTo(dest string, inputs []string) error {
	out, err := Create(dest, inputs...)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(t.File, 0, 1<<62)); err != nil {
		out.Abort()
		return fmt.Errorf("saving %s: %w", dest, err)
	}
	return out.Commit()
}

// Remove deletes the temporary file, unless SaveAs made it a saved file.
func (t *Temp) Remove() {
	if t.saved {
		t.File.Close()
		return
	}
	t.discard()
}
