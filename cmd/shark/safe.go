package main

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// terminalSafe is s as it may be printed to a terminal: names read from a
// file may hold control characters (an escape sequence that clears the
// screen, say), which are quoted instead.
func terminalSafe(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}
