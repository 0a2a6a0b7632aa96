package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"shark/core/kernels"
	"shark/internal/atomicfile"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// cli is what every command shares: the output streams, the --json switch
// and the progress line.
type cli struct {
	stdout, stderr io.Writer
	rawErr         io.Writer // stderr unfiltered, for the progress line's own escapes
	args           []string  // the command line, for the reports that quote it
	json           bool
	printed        bool // a result is on stdout: a later error adds no JSON object
	prog           progress
}

// result prints v as indented JSON on stdout. An object gets the kernel
// set it was computed with as its first field, kernel_set (unless it has
// one): a figure or a file is only comparable with others of its set.
func (c *cli) result(v any) error {
	c.printed = true
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := c.stdout.Write(withKernelSet(buf.Bytes()))
	return err
}

// withKernelSet puts "kernel_set" first in the indented JSON object obj,
// if it is an object with fields and without that one.
func withKernelSet(obj []byte) []byte {
	var fields map[string]json.RawMessage
	if !bytes.HasPrefix(obj, []byte("{\n")) || json.Unmarshal(obj, &fields) != nil {
		return obj
	}
	if _, ok := fields["kernel_set"]; ok {
		return obj
	}
	set, _ := json.Marshal(kernels.Set())
	out := append([]byte("{\n  \"kernel_set\": "), set...)
	return append(append(out, ",\n"...), obj[2:]...)
}

// warn prints a warning on stderr, clearing the progress line first.
func (c *cli) warn(format string, args ...any) {
	c.prog.clear()
	fmt.Fprintf(c.stderr, "warning: "+format+"\n", args...)
}

// progress draws a progress bar with the rate and the time left on stderr
// when it is a terminal, and nothing otherwise.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	stage string
}

// onTerminal reports whether w is a terminal.
func onTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// updater is the callback long work reports to: a stage, counts done and
// the total.
func (c *cli) updater() func(stage string, done, total int64) {
	if !onTerminal(c.rawErr) {
		return nil
	}
	c.prog.w = c.rawErr
	return c.prog.update
}

func (p *progress) update(stage string, done, total int64) {
	if p.bar == nil || stage != p.stage {
		p.clear()
		p.stage = stage
		p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(stage),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
	}
	p.bar.Set64(done)
}

// clear takes the bar off the line.
func (p *progress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

// done ends the bar.
func (p *progress) done() {
	p.clear()
	p.bar, p.stage = nil, ""
}

// outputs refuses, before any work, an output that would replace one of
// the command's inputs, whatever its spelling (a link, ".."), or a special
// file (usage errors), and one whose folder takes no new file (a failure).
func outputs(out []string, inputs ...string) error {
	return checkOutputs(atomicfile.CheckOutput, out, inputs)
}

// folderOutputs is outputs for files of a folder the command makes.
func folderOutputs(out []string, inputs ...string) error {
	return checkOutputs(atomicfile.CheckOutputInNewFolder, out, inputs)
}

func checkOutputs(check func(string, ...string) error, out, inputs []string) error {
	for _, o := range out {
		if o == "" {
			continue
		}
		if err := check(o, inputs...); err != nil {
			if errors.Is(err, atomicfile.ErrUnwritable) {
				return err
			}
			return usageError{err}
		}
	}
	return nil
}

// writeFile writes text to path whole or not at all, never over an input.
func writeFile(path, text string, inputs ...string) error {
	f, err := atomicfile.Create(path, inputs...)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
