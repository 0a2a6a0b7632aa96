package atomicfile

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openNameless opens a file with no name in dir (O_TMPFILE), where the file
// system allows and /proc can name it later.
func openNameless(dir string) (*os.File, error) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, errNoNameless
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), dir+"/(nameless)"), nil
}

// linkNameless gives a nameless file a name in dir, made from prefix.
func linkNameless(f *os.File, dir, prefix string) (string, error) {
	src := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("%s/%s%d-%d", dir, prefix, os.Getpid(), i)
		err := unix.Linkat(unix.AT_FDCWD, src, unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
		if err == nil {
			return name, nil
		}
		if err != unix.EEXIST {
			return "", fmt.Errorf("naming a temporary file in %s: %w", dir, err)
		}
	}
	return "", fmt.Errorf("naming a temporary file in %s: too many taken", dir)
}
