package formats

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// dirSiblings opens files in one directory through an os.Root, so that a
// model file naming /etc/passwd, ../secret or a link leading out of the
// folder cannot make shark read it; it closes them all at once.
type dirSiblings struct {
	dir   string
	mu    sync.Mutex
	root  *os.Root
	files []*os.File
}

// Open opens name, a path relative to the directory that stays inside it.
func (d *dirSiblings) Open(name string) (io.ReaderAt, int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root == nil {
		r, err := os.OpenRoot(d.dir)
		if err != nil {
			return nil, 0, err
		}
		d.root = r
	}
	st, err := d.root.Stat(name)
	if err != nil {
		return nil, 0, fmt.Errorf("%w (files beside the model are read only from its folder)", err)
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: %w", name, ErrNotRegular)
	}
	f, err := d.root.Open(name)
	if err != nil {
		return nil, 0, err
	}
	d.files = append(d.files, f)
	return f, st.Size(), nil
}

// Close closes every file opened.
func (d *dirSiblings) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var first error
	for _, f := range d.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	if d.root != nil {
		d.root.Close()
	}
	d.files, d.root = nil, nil
	return first
}
