//go:build unix

package atomicfile

import (
	"os"
	"sync"
	"syscall"
)

// umask is the process's file creation mask, read once: Umask can only be
// read by setting it, so it is set back at once, before any file of ours
// is made.
var umask = sync.OnceValue(func() os.FileMode {
	m := syscall.Umask(0o022)
	syscall.Umask(m)
	return os.FileMode(m)
})

// keepOwner gives name the owner and group of the file it replaces, st's,
// where the process may (root); others' files replaced by a user who may
// write the folder become that user's, as with any editor's save.
func keepOwner(name string, st os.FileInfo) error {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	return os.Lchown(name, int(s.Uid), int(s.Gid))
}
