//go:build linux

package hugemem

import "syscall"

// hugeFrom is the size from which Alloc asks for huge pages: below it a
// table fits the TLB's reach anyway.
const hugeFrom = 4 << 20

// Alloc returns n zeroed bytes. From a few MiB up they are an anonymous
// mapping, aligned to 2 MiB and advised to use transparent huge pages
// (MADV_HUGEPAGE, which the default "madvise" THP setting honours); smaller
// ones, or any the kernel refuses, come from the Go heap.
func Alloc(n int) *Buffer {
	if n < hugeFrom {
		return &Buffer{Bytes: make([]byte, n)}
	}
	const page = 2 << 20
	size := (n+page-1)&^(page-1) + page // room to align the start
	m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return &Buffer{Bytes: make([]byte, n)}
	}
	skip := 0
	if a := addr(m) % page; a != 0 {
		skip = int(page - a)
	}
	b := m[skip : skip+n : skip+n]
	// Without huge pages the memory still works: the advice's error is moot.
	_ = syscall.Madvise(m[skip:], syscall.MADV_HUGEPAGE)
	return &Buffer{Bytes: b, free: func() error { return syscall.Munmap(m) }}
}
