package formats

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format is one codec's match/open contract.
type Format struct {
	Name string
	// Match reports whether the first bytes of a file (up to 64; fewer if
	// the file is shorter) belong to this format.
	Match func(head []byte) bool
	// Open reads the file's directory without reading its data.
	Open func(r io.ReaderAt, size int64) (*File, error)
}

var registry []Format

// Register adds a format. Formats are tried in registration order.
func Register(f Format) { registry = append(registry, f) }

// Sniff names the format of the content, or returns ErrUnknownFormat.
func Sniff(r io.ReaderAt, size int64) (Format, error) {
	head := make([]byte, min(size, 64))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return Format{}, fmt.Errorf("reading file head: %w", err)
	}
	for _, f := range registry {
		if f.Match(head) {
			return f, nil
		}
	}
	if size == 0 {
		return Format{}, fmt.Errorf("%w: the file is empty (a file under /proc reports no size, and cannot be read this way)", ErrUnknownFormat)
	}
	return Format{}, fmt.Errorf("%w: the first bytes %q match none of %s", ErrUnknownFormat, printable(head[:min(len(head), 8)]), Names())
}

// Names lists the registered formats.
func Names() string {
	s := ""
	for i, f := range registry {
		if i > 0 {
			s += ", "
		}
		s += f.Name
	}
	return s
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 32 || c > 126 {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// OpenReaderAt sniffs and opens content available through r.
func OpenReaderAt(r io.ReaderAt, size int64) (*File, error) {
	f, err := Sniff(r, size)
	if err != nil {
		return nil, err
	}
	file, err := f.Open(r, size)
	if err != nil {
		return nil, err
	}
	file.Format, file.Size = f.Name, size
	return file, nil
}

// Open is OpenReaderAt for content with a file name: a lone .npy array is
// named after its file, as np.load users think of it.
func Open(r io.ReaderAt, size int64, name string) (*File, error) {
	f, err := OpenReaderAt(r, size)
	if err != nil {
		return nil, err
	}
	if f.Format == "npy" && len(f.Tensors) == 1 {
		f.Tensors[0].Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	return f, nil
}

// ErrNotRegular: the path is a directory, a pipe or a device, not a file
// that can be read at any offset.
var ErrNotRegular = errors.New("not a regular file")

// OpenFile opens path; close the returned *os.File when done with the File.
func OpenFile(path string) (*File, *os.File, error) {
	// Stat before opening: opening a pipe blocks until it has a writer.
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		kind := "a directory"
		if !st.IsDir() {
			kind = "a pipe, a device or a socket"
		}
		return nil, nil, fmt.Errorf("%s: %w: it is %s", path, ErrNotRegular, kind)
	}
	osf, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := Open(osf, st.Size(), path)
	if err != nil {
		osf.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, osf, nil
}
