package compress

import (
	"io"
	"path/filepath"

	"shark/formats"
	_ "shark/formats/all" // every face reads every format
	"shark/formats/sharkfile"
)

// Input is an opened model file.
type Input struct {
	Name string // the file's base name, as provenance records it
	Path string // where it was opened from; "" for content opened by OpenReaderAt
	File *formats.File
	io.ReaderAt
	closer io.Closer
}

// Open opens the model file at path. Close it when done.
func Open(path string) (*Input, error) {
	f, osf, err := formats.OpenFile(path)
	if err != nil {
		return nil, err
	}
	return &Input{Name: filepath.Base(path), Path: path, File: f, ReaderAt: osf, closer: osf}, nil
}

// OpenReaderAt opens size bytes of content named name (a browser's File,
// a buffer) read through r.
func OpenReaderAt(r io.ReaderAt, size int64, name string) (*Input, error) {
	f, err := formats.Open(r, size, name)
	if err != nil {
		return nil, err
	}
	return &Input{Name: name, File: f, ReaderAt: r}, nil
}

// Close releases the file and any it opened beside it.
func (in *Input) Close() error {
	err := in.File.Close()
	if in.closer != nil {
		if cerr := in.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Shark is the reader of a .shark input.
func (in *Input) Shark() (*sharkfile.Reader, bool) { return sharkfile.FromFile(in.File) }
