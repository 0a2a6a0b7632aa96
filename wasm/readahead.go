//go:build js && wasm

package main

import (
	"fmt"
	"sync"
	"syscall/js"
)

// A browser reads a File through FileReaderSync at about a millisecond a
// call plus the bytes, the Worker waiting meanwhile (a 256 MiB file in
// Chromium on the 2-core test machine: 1.2-1.9 s in 1 MiB slices,
// 0.9-1.2 s in 4 MiB, 0.8 s in 16 MiB). Measuring and writing read a
// table's rows 4 MiB at a time, in order: so a reader going through the
// file in order is given it aheadBytes a call, the rest kept for its next
// reads, and the slice after it is asked for at once without waiting
// (Blob.arrayBuffer), read by the browser while this Worker computes. A
// read that does not follow the one before (the norm histogram's sample,
// a directory) is read as it is asked, so that a sparse sample never
// reads the whole file.

// aheadBytes is how much a read in order fetches at once.
const aheadBytes = 8 << 20

// ahead is the bytes read ahead of a reader going in order, kept in
// JavaScript (this program's memory never shrinks): buf holds n bytes of
// the file from off; end is where the last large read ended; next is the
// slice after buf, being read.
type ahead struct {
	mu       sync.Mutex // a read waiting for next lets other goroutines run
	off, end int64
	n        int
	buf      js.Value // a Uint8Array
	next     *prefetch
}

// prefetch is a slice of the file the browser is reading: ab is its
// ArrayBuffer once done is closed, undefined if the read failed.
type prefetch struct {
	off  int64
	done chan struct{}
	ab   js.Value
}

// large reads p from off (direct bytes or more), from the bytes read
// ahead when it can, and reads ahead when the read follows the one
// before.
func (b *blobReader) large(p []byte, off int64) error {
	a := &b.ahead
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(p) > 0 {
		if in := off - a.off; off >= a.off && in < int64(a.n) {
			k := min(len(p), a.n-int(in))
			js.CopyBytesToGo(p[:k], a.buf.Call("subarray", in, in+int64(k)))
			p, off = p[k:], off+int64(k)
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

// fill reads up to aheadBytes from off into the bytes read ahead (the
// slice asked for before, when it is that one) and asks for the slice
// after them.
func (b *blobReader) fill(off int64) error {
	a := &b.ahead
	n := int(min(int64(aheadBytes), b.size-off))
	f := a.next
	a.next, a.n = nil, 0
	buf, ok := taken(f, off, n)
	if !ok { // not asked for, or its read failed: read it now, for the error if any
		var err error
		if buf, err = b.readJS(off, n); err != nil {
			return err
		}
	}
	a.off, a.n, a.buf = off, n, buf
	a.next = b.prefetch(off + int64(n))
	return nil
}

// taken is the slice f as a Uint8Array, waiting for it, when it is the n
// bytes at off and was read.
func taken(f *prefetch, off int64, n int) (js.Value, bool) {
	if f == nil || f.off != off {
		return js.Undefined(), false
	}
	<-f.done
	if f.ab.Type() != js.TypeObject || f.ab.Get("byteLength").Int() != n {
		return js.Undefined(), false
	}
	return js.Global().Get("Uint8Array").New(f.ab), true
}

// readJS reads n bytes from off with FileReaderSync, into JavaScript's
// memory. The browser throws when the file cannot be read (moved, deleted
// or changed on disk since it was chosen): that is an error of this read,
// never a panic, since the reads run on goroutines of their own where
// nothing would recover it.
func (b *blobReader) readJS(off int64, n int) (u8 js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading %s at byte %d: %v", b.blob.Get("name").String(), off, r)
		}
	}()
	fileReads.add(n)
	ab := b.frs.Call("readAsArrayBuffer", b.blob.Call("slice", float64(off), float64(off+int64(n))))
	return js.Global().Get("Uint8Array").New(ab), nil
}

// prefetch asks the browser for up to aheadBytes from off, without
// waiting for them; nil at the end of the file, or when the browser
// refuses at once (the read is then made when needed).
func (b *blobReader) prefetch(off int64) *prefetch {
	n := min(int64(aheadBytes), b.size-off)
	if n <= 0 {
		return nil
	}
	f := &prefetch{off: off, done: make(chan struct{})}
	var then, catch js.Func
	settle := func(ab js.Value) {
		f.ab = ab
		close(f.done)
		then.Release()
		catch.Release()
	}
	then = js.FuncOf(func(_ js.Value, a []js.Value) any { settle(a[0]); return nil })
	catch = js.FuncOf(func(js.Value, []js.Value) any { settle(js.Undefined()); return nil })
	if !ask(func() {
		b.blob.Call("slice", float64(off), float64(off+n)).Call("arrayBuffer").Call("then", then, catch)
	}) {
		then.Release()
		catch.Release()
		return nil
	}
	fileReads.add(int(n))
	return f
}

// ask calls fn, saying whether it returned without a JavaScript exception.
func ask(fn func()) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	fn()
	return true
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
