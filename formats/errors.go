package formats

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownFormat: no registered format recognises the content.
	ErrUnknownFormat = errors.New("not a format shark reads")
	// ErrCorrupt: the file breaks its format's rules (bad header, offsets
	// past the end, overlapping data, wrong sizes).
	ErrCorrupt = errors.New("corrupt file")
	// ErrChecksum: stored bytes do not match their checksum.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrUnsupported: valid for its format, but a feature shark does not read
	// (a Fortran-order array, an unknown dtype).
	ErrUnsupported = errors.New("unsupported")
	// ErrTooLarge: a declared size exceeds what the file can hold or a limit.
	ErrTooLarge = errors.New("declared size too large")
	// ErrNotFound: no tensor of that name.
	ErrNotFound = errors.New("no such tensor")
)

// Error locates a problem in a file: the format, the byte offset where it
// was found (-1 if none applies), and the tensor if any.
type Error struct {
	Format string
	Offset int64
	Tensor string
	Msg    string
	Err    error // one of the Err* values, for errors.Is
}

func (e *Error) Error() string {
	s := e.Format + ": "
	if e.Tensor != "" {
		s += fmt.Sprintf("tensor %q: ", e.Tensor)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf("at offset %d: ", e.Offset)
	}
	s += e.Msg
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error.
func Errorf(format string, off int64, kind error, msg string, args ...any) *Error {
	return &Error{Format: format, Offset: off, Msg: fmt.Sprintf(msg, args...), Err: kind}
}
