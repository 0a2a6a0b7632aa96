//go:build !linux

package hugemem

// Alloc returns n zeroed bytes from the Go heap: huge pages are asked for on
// Linux only.
func Alloc(n int) *Buffer { return &Buffer{Bytes: make([]byte, n)} }
