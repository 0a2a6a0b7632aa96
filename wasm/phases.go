//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"
	"time"
)

// phases is where this Worker's time went since the file was opened: when
// each job and phase began and ended, and when each helper was asked and
// answered, in milliseconds from the open. sharkAPI.phases gives it as
// text, so that a benchmark (TestPageSpeed) says where the page's time
// goes, not only its total.
var phases struct {
	t0    time.Time
	lines []string
}

// maxPhases bounds the record: a page kept open for a day of budget
// changes keeps its first lines.
const maxPhases = 1000

// mark records that something happened now.
func mark(format string, a ...any) {
	if len(phases.lines) >= maxPhases {
		return
	}
	ms := float64(time.Since(phases.t0).Microseconds()) / 1000
	phases.lines = append(phases.lines, fmt.Sprintf("%8.0f ms  %s", ms, fmt.Sprintf(format, a...)))
}

// markOpen starts the record again for a file being opened.
func markOpen(name string) {
	phases.t0, phases.lines = time.Now(), phases.lines[:0]
	fileReads = readCount{}
	mark("open %s", name)
}

func phasesText(js.Value, []js.Value) any { return strings.Join(phases.lines, "\n") }
