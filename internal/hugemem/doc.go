// Package hugemem allocates large lookup tables outside the Go heap, backed
// by transparent huge pages where the system offers them.
//
// Random lookups in a table of gigabytes miss the TLB on almost every row
// with 4 KiB pages, and under virtualization a miss costs a two-level page
// walk: the walk, not the memory, then bounds lookups per second. The Go
// runtime does not ask for huge pages for its heap, so a serving table that
// should be bound by memory rather than by page walks is allocated here.
package hugemem

import "unsafe"

// Buffer is memory from Alloc; Free returns it. Bytes is nil after Free.
type Buffer struct {
	Bytes []byte
	free  func() error
}

// Free releases the buffer; it is safe to call more than once.
func (b *Buffer) Free() error {
	if b == nil {
		return nil
	}
	f := b.free
	b.free, b.Bytes = nil, nil
	if f == nil {
		return nil // the Go heap's, or freed already
	}
	return f()
}

// Float32s views the buffer as float32s (len(Bytes)/4 of them); Alloc's
// memory is aligned for them.
func (b *Buffer) Float32s() []float32 {
	if len(b.Bytes) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b.Bytes[0])), len(b.Bytes)/4)
}

// Uint32s views the buffer as uint32s (len(Bytes)/4 of them).
func (b *Buffer) Uint32s() []uint32 {
	if len(b.Bytes) < 4 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b.Bytes[0])), len(b.Bytes)/4)
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
