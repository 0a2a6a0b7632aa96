//go:build !unix

package sharkfile

import (
	"errors"
	"os"
)

func mapFile(*os.File, int64) (mappedAt, func() error, error) {
	return nil, nil, errors.New("mmap unavailable")
}
