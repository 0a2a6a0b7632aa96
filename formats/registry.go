package formats

import (
	"bytes"
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
	// Claim, if set, looks further than the first bytes, for formats that
	// share them (an .npz and a PyTorch checkpoint are both zips): Sniff
	// names the format only if Claim agrees.
	Claim func(r io.ReaderAt, size int64) bool
	// Open reads the file's directory without reading its data.
	Open func(src Source) (*File, error)
}

// Source is content to open: size bytes read through R, and the files
// beside it, if any can be opened (an ONNX model's external data).
type Source struct {
	R        io.ReaderAt
	Size     int64
	Siblings Siblings // nil: the content was opened alone (a browser's File)
}

// Siblings opens files beside the one being read, by a name relative to
// it; what it opens is closed with the File (File.Close).
type Siblings interface {
	Open(name string) (io.ReaderAt, int64, error)
}

var registry []Format

// IsZip matches the first bytes of a zip archive (an empty one included).
func IsZip(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
}

// Register adds a format. Formats are tried in registration order.
func Register(f Format) { registry = append(registry, f) }

// Sniff names the format of the content, or returns ErrUnknownFormat with
// what the content looks like.
func Sniff(r io.ReaderAt, size int64) (Format, error) {
	head := make([]byte, min(size, 64))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return Format{}, fmt.Errorf("reading file head: %w", err)
	}
	for _, f := range registry {
		if f.Match(head) && (f.Claim == nil || f.Claim(r, size)) {
			return f, nil
		}
	}
	if size == 0 {
		return Format{}, fmt.Errorf("%w: the file is empty (a file under /proc reports no size, and cannot be read this way)", ErrUnknownFormat)
	}
	return Format{}, fmt.Errorf("%w: %s (shark reads %s)", ErrUnknownFormat, describe(r, size, head), Names())
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
	return OpenSource(Source{R: r, Size: size})
}

// OpenSource sniffs and opens src.
func OpenSource(src Source) (*File, error) {
	f, err := Sniff(src.R, src.Size)
	if err != nil {
		return nil, err
	}
	file, err := f.Open(src)
	if err != nil {
		return nil, err
	}
	file.Format, file.Size = f.Name, src.Size
	return file, nil
}

// Open is OpenReaderAt for content with a file name: a lone .npy array is
// named after its file, as np.load users think of it.
func Open(r io.ReaderAt, size int64, name string) (*File, error) {
	return openNamed(Source{R: r, Size: size}, name)
}

func openNamed(src Source, name string) (*File, error) {
	f, err := OpenSource(src)
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
		return nil, nil, fmt.Errorf("%s: %w: it is %s", path, ErrNotRegular, describeDir(path, st))
	}
	osf, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	sib := &dirSiblings{dir: filepath.Dir(path)}
	f, err := openNamed(Source{R: osf, Size: st.Size(), Siblings: sib}, path)
	if err != nil {
		sib.Close()
		osf.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	f.closers = append(f.closers, sib)
	return f, osf, nil
}
