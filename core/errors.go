package core

import "errors"

var (
	// ErrInvalid reports an option or argument outside its domain.
	ErrInvalid = errors.New("invalid argument")
	// ErrBudget reports a byte budget that no assignment can meet.
	ErrBudget = errors.New("budget cannot be met")
)
