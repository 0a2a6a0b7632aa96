//go:build js && wasm

package main

import "fmt"

// A browser reads a File through FileReaderSync at about a millisecond a
// call plus the bytes (a 256 MiB file in Chromium on the 2-core test
// machine: 1.2-1.9 s in 1 MiB slices, 0.9-1.2 s in 4 MiB, 0.8 s in
// 16 MiB). Writing reads a table's rows a 1 MiB window at a time and
// measuring 4 MiB at a time, each in order: so a reader going through the
// file in order is given it 16 MiB a call, the rest kept for its next
// reads. A read that does not follow the one before (the norm histogram's
// sample, a directory) is read as it is asked, so that a sparse sample
// never reads the whole file.

// aheadBytes is how much a read in order fetches at once.
const aheadBytes = 16 << 20

// ahead is the bytes read ahead of a reader going in order: data holds the
// file from off; end is where the last large read ended.
type ahead struct {
	off, end int64
	data     []byte
}

// large reads p from off (direct bytes or more), from the bytes read
// ahead when it can, and reads ahead when the read follows the one
// before.
func (b *blobReader) large(p []byte, off int64) error {
	a := &b.ahead
	for len(p) > 0 {
		if in := off - a.off; off >= a.off && in < int64(len(a.data)) {
			n := copy(p, a.data[in:])
			p, off = p[n:], off+int64(n)
			a.end = off
			continue
		}
		inOrder := off == a.end
		a.end = off + int64(len(p))
		if !inOrder || len(p) >= aheadBytes {
			return b.read(p, off)
		}
		if err := b.fill(off); err != nil {
			return err
		}
	}
	return nil
}

// fill reads up to aheadBytes from off into the bytes read ahead.
func (b *blobReader) fill(off int64) error {
	a := &b.ahead
	n := int(min(int64(aheadBytes), b.size-off))
	if cap(a.data) < n {
		a.data = make([]byte, n)
	}
	a.data = a.data[:n]
	if err := b.read(a.data, off); err != nil {
		a.data = a.data[:0]
		return err
	}
	a.off = off
	return nil
}

// readCount is the reads of the browser's File since it was last taken,
// for the phases' record: a test sees how a phase read the file.
type readCount struct{ calls, bytes int64 }

var fileReads readCount

func (r *readCount) add(n int) { r.calls++; r.bytes += int64(n) }

// take says how the file was read since the last take, and starts again.
func (r *readCount) take() string {
	s := fmt.Sprintf("the file read %d times, %d bytes", r.calls, r.bytes)
	*r = readCount{}
	return s
}
