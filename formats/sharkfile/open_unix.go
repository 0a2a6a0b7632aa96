//go:build unix

package sharkfile

import (
	"os"
	"syscall"
)

// mapFile maps f read-only; the serving path then reads rows with a memory
// copy instead of a system call.
func mapFile(f *os.File, size int64) (mappedAt, func() error, error) {
	if size <= 0 || size != int64(int(size)) {
		return nil, nil, syscall.EINVAL
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return mappedAt(b), func() error { return syscall.Munmap(b) }, nil
}
