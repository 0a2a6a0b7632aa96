package main

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shark/compress"
	"shark/ctr/model"
	"shark/formats"
)

// What every command checks before its work: each input is a file that can
// be read (checkInputs), each numeric flag lies in its range (checkRanges);
// and what it prints cannot drive the terminal (terminalWriter).

// inputFlags are the flags that name input files; every positional
// argument of every command names one too.
var inputFlags = []string{"test", "counts", "graph"}

// checkInputs refuses an input that is a pipe, a device or a socket, before
// anything opens it: opening a pipe blocks until it has a writer, and
// /dev/zero never ends (the commands read a file more than once, or to its
// end). Directories are left to the commands, which say what they are.
func checkInputs(cmd *cobra.Command, args []string) error {
	paths := append([]string{}, args...)
	for _, name := range inputFlags {
		if f := cmd.Flags().Lookup(name); f != nil && f.Value.String() != "" {
			paths = append(paths, f.Value.String())
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || st.Mode().IsRegular() || st.IsDir() {
			continue
		}
		return fmt.Errorf("%s: %w: it is %s; shark reads files that can be read again and that end", quoteName(p), formats.ErrNotRegular, specialKind(st.Mode()))
	}
	return nil
}

func specialKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a file"
}

// flagRanges is each numeric flag's range, by name (a name means one thing
// in every command). Values outside would exhaust memory or time, or make
// nothing (a split of 1 trains on no rows); bounds are inclusive.
var flagRanges = map[string][2]float64{
	"bags": {1, 1e7}, "bag-size": {1, 4096}, "zipf": {1, 10}, "workers": {0, model.MaxWorkers},
	"max-line": {0, 1 << 30}, "min-count": {0, 1 << 30},
	"rows": {1, 1e9}, "fields": {1, 26}, "seed": {0, math.MaxUint64}, "seeds": {1, 100},
	"keep-fraction": {0, 1}, "keep": {0, 1 << 20}, "rounds": {1, 1000}, "finetune-epochs": {0, 1000},
	"repeats": {1, 1000}, "tolerance": {0, 1}, "max-auc-drop": {0, 0.5},
	"w-pos": {0, 1e9}, "w-neg": {0, 1e9}, "gamma": {0, 1},
	"fp32": {0, 1}, "fp16": {0, 1}, "int8": {0, 1}, "int4": {0, 1},
	"split": {0, 0.99}, "valid": {0, 0.9}, "dim": {1, 4096}, "hidden": {1, 1 << 16}, "lr": {0, 100}, "batch": {1, 1 << 20},
	"epochs": {0, 10000}, "l2": {0, 1000}, "min-rows": {0, 1 << 40},
	"block": {0, compress.MaxBlock},
}

// numericTypes are the pflag value types that hold numbers.
var numericTypes = map[string]bool{"int": true, "int32": true, "int64": true, "uint": true, "uint64": true,
	"float32": true, "float64": true, "float": true, "intSlice": true, "float64Slice": true}

// checkRanges refuses, as a usage error naming the range, a numeric flag
// outside its range, and a file flag given an empty name.
func checkRanges(cmd *cobra.Command) error {
	var bad error
	for _, name := range []string{"output", "report", "counts", "test", "graph"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() == "" {
			return usagef("--%s names no file: give it a file name", name)
		}
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		r, ok := flagRanges[f.Name]
		if bad != nil || !ok || !numericTypes[f.Value.Type()] {
			return
		}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, s := range vals {
			if s == "" {
				continue // an optional number not given
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || !(v >= r[0] && v <= r[1]) {
				bad = usagef("--%s %s is outside its range %s..%s", f.Name, s, rangeText(r[0]), rangeText(r[1]))
				return
			}
		}
	})
	return bad
}

func rangeText(v float64) string {
	if v == math.MaxUint64 {
		return "2^64-1"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// maxBagIDs bounds bench lookup's ids (--bags x --bag-size, 8 bytes each).
const maxBagIDs = 1 << 26

// bigLimits bound example --big: a table of at most 2^40 values (4 TiB)
// of at most 65,536 columns, written streaming.
const (
	maxBigDim    = 1 << 16
	maxBigValues = 1 << 40
)

// checkBig refuses a --big shape outside those bounds, before any folder
// is made.
func checkBig(rows, dim int) error {
	if rows < 1 || dim < 1 || dim > maxBigDim || rows > maxBigValues/dim {
		return usagef("--big %dx%d: want ROWS >= 1, 1 <= DIM <= %d and ROWS x DIM <= 2^40 (%s of float32)", rows, dim, maxBigDim, compress.Size(4*maxBigValues))
	}
	return nil
}

// quoteName is a name from outside (a file path, a column) as it may be
// printed: quoted when it holds a control character or is not UTF-8.
func quoteName(s string) string { return terminalSafe(s) }

// terminalWriter writes text with every control character other than line
// breaks and tabs escaped, and bytes that are not UTF-8 as \xNN: names from
// files and command lines reach messages and results in many ways, and
// none may send the terminal an escape sequence (a title, a cleared
// screen). JSON is untouched: control characters in it are escaped
// already, and DEL and C1 controls are written as \u escapes, valid JSON.
type terminalWriter struct{ w io.Writer }

func (t terminalWriter) Write(p []byte) (int, error) {
	if safeText(p) {
		return t.w.Write(p)
	}
	out := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = fmt.Appendf(out, `\x%02x`, p[i])
		case isControl(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// isControl: C0 controls but for tab and line feed (a carriage return
// could overwrite a line: the progress line writes its own unfiltered),
// DEL and C1 controls.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

func safeText(p []byte) bool {
	for _, b := range p {
		if b >= 0x80 || isControl(rune(b)) {
			return utf8.Valid(p) && !hasControlRune(p)
		}
	}
	return true
}

func hasControlRune(p []byte) bool {
	for _, r := range string(p) {
		if isControl(r) {
			return true
		}
	}
	return false
}
