package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shark/compress"
	"shark/core"
	"shark/formats"
	"shark/internal/atomicfile"
)

// errorReport is what a failed command prints on stdout under --json, so
// that a script reading stdout learns of the failure as it learns of a
// result: the message (also on stderr), its kind and the exit status.
type errorReport struct {
	Error string `json:"error"`
	Kind  string `json:"kind"` // usage, output, budget, input or failure
	Exit  int    `json:"exit"`
}

// jsonRequested reads --json from the command line itself: a command line
// that does not parse (an unknown flag) never sets the flag's variable.
func jsonRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" {
			return true
		}
		if v, ok := strings.CutPrefix(a, "--json="); ok {
			b, err := strconv.ParseBool(v)
			return err == nil && b
		}
	}
	return false
}

// errorKind sorts err for scripts: the command line, the output file, a
// budget no plan can meet, an input file shark cannot read, or else a
// failure of the work itself.
func errorKind(err error, exit int) string {
	switch {
	case errors.Is(err, atomicfile.ErrSameFile), errors.Is(err, atomicfile.ErrSpecialOutput), errors.Is(err, atomicfile.ErrUnwritable):
		return "output"
	case exit == exitUsage:
		return "usage"
	case errors.Is(err, core.ErrBudget):
		return "budget"
	}
	var fe *formats.Error
	if errors.As(err, &fe) || errors.Is(err, formats.ErrUnknownFormat) || errors.Is(err, formats.ErrNotRegular) ||
		errors.Is(err, compress.ErrNoTables) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return "input"
	}
	return "failure"
}

// reportError prints the JSON error object on stdout.
func reportError(stdout io.Writer, msg string, err error, exit int) {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(errorReport{Error: msg, Kind: errorKind(err, exit), Exit: exit})
}

// flagError is the root's flag error function: a usage error, with a
// suggestion when an unknown flag is a near miss of one the command takes.
func flagError(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return usageError{err}
	}
	if s := suggestFlag(cmd, name); s != "" {
		err = fmt.Errorf("%w (did you mean --%s?)", err, s)
	}
	return usageError{err}
}

// suggestFlag is the command's flag (its own or inherited) nearest to name
// by edit distance, if within 2 edits, or "".
func suggestFlag(cmd *cobra.Command, name string) string {
	best, bestD := "", 3
	visit := func(f *pflag.Flag) {
		if d := levenshtein(name, f.Name); d < bestD && !f.Hidden {
			best, bestD = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return best
}

// levenshtein is the edit distance between a and b (insertions,
// deletions and substitutions of one byte each).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// requiredError rewrites cobra's `required flag(s) "output" not set` as
// what the flag is for: "-o/--output is required: the file to write".
func requiredError(cmd *cobra.Command, err error) error {
	list, ok := strings.CutPrefix(err.Error(), "required flag(s) ")
	if !ok {
		return err
	}
	var parts []string
	for _, q := range strings.Split(strings.TrimSuffix(list, " not set"), ", ") {
		name, uerr := strconv.Unquote(q)
		f := cmd.Flags().Lookup(name)
		if uerr != nil || f == nil {
			return usageError{err}
		}
		parts = append(parts, flagSpelling(f)+" is required: "+requiredUsage(f.Usage))
	}
	return usageError{errors.New(strings.Join(parts, "; "))}
}

// flagSpelling is "-o/--output", or "--rows" for a flag without shorthand.
func flagSpelling(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return "-" + f.Shorthand + "/--" + f.Name
	}
	return "--" + f.Name
}

// requiredUsage is a flag's help without its "(required)" mark.
func requiredUsage(u string) string {
	u = strings.TrimSuffix(u, " (required)")
	if s, ok := strings.CutSuffix(u, ", required)"); ok {
		return s + ")"
	}
	return u
}
