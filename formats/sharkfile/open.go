package sharkfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"shark/formats"
)

// mappedAt is a file mapped into memory. Another program can shrink the
// file under the mapping, and a read past its new end then faults (SIGBUS):
// reads turn that fault into an error instead of a crash.
type mappedAt []byte

// errShrunk: the mapped file became shorter while it was read.
var errShrunk = errors.New("the file shrank while it was read (another program is changing it)")

func (m mappedAt) ReadAt(p []byte, off int64) (n int, err error) {
	if off < 0 || off > int64(len(m)) {
		return 0, io.EOF
	}
	defer guardFault(&err)()
	n = copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// guardFault makes a fault on mapped memory in the calling goroutine a
// panic, and the returned function, deferred, turns that panic into
// errShrunk in *err (and restores the goroutine's setting).
func guardFault(err *error) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if memoryFault(r) {
				*err = formats.Errorf(name, -1, formats.ErrCorrupt, "%v", errShrunk)
				return
			}
			panic(r)
		}
	}
}

// memoryFault reports a panic of a memory fault. The guarded code only
// copies from the mapping, so any such fault is the mapping's: one with its
// address (Addr), or a SIGBUS reported at address 0, which the runtime
// takes for a nil dereference (qemu-user-static gives no fault address).
func memoryFault(r any) bool {
	if _, ok := r.(interface{ Addr() uintptr }); ok {
		return true
	}
	e, ok := r.(runtime.Error)
	return ok && strings.Contains(e.Error(), "invalid memory address")
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
// through ReadAt otherwise. A parts manifest opens as its one table, its
// parts read from the manifest's folder alone (openParts).
func Open(path string) (*File, error) {
	// Stat before opening: opening a pipe blocks until it has a writer, and
	// a device never ends.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: it is a directory, a pipe or a device", path, formats.ErrNotRegular)
	}
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, len(ManifestMagic))
	if n, _ := osf.ReadAt(head, 0); isManifest(head[:n]) {
		defer osf.Close()
		return openParts(path, st.Size(), osf)
	}
	f, err := openMapped(osf, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// openMapped reads the .shark file osf of size bytes, mapped where the
// system allows; it closes osf when it fails.
func openMapped(osf *os.File, size int64) (*File, error) {
	var r io.ReaderAt = osf
	closer := osf.Close
	if m, unmap, err := mapFile(osf, size); err == nil {
		r = m
		closer = func() error { unmap(); return osf.Close() }
	}
	rd, err := NewReader(r, size)
	if err != nil {
		closer()
		return nil, err
	}
	return &File{Reader: rd, close: closer}, nil
}
