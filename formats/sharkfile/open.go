package sharkfile

import (
	"fmt"
	"io"
	"os"
)

type mappedAt []byte

func (m mappedAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// File is an opened .shark file; Close releases it.
type File struct {
	*Reader
	close func() error
}

// Close unmaps and closes the file and frees the rows LoadRows read. Rows
// must not be read after Close.
func (f *File) Close() error {
	for _, t := range f.tables {
		for _, b := range t.loaded {
			b.Free()
		}
	}
	return f.close()
}

// Open opens path for serving: memory-mapped where the system allows,
// through ReadAt otherwise.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	var r io.ReaderAt = osf
	closer := osf.Close
	if m, unmap, err := mapFile(osf, st.Size()); err == nil {
		r = m
		closer = func() error { unmap(); return osf.Close() }
	}
	rd, err := NewReader(r, st.Size())
	if err != nil {
		closer()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Reader: rd, close: closer}, nil
}
