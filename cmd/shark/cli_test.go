package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// commands is every command of the CLI, subcommands included, as
// "inspect", "experiment taylor", ...
func commands() []*cobra.Command {
	var out []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if s.Hidden {
				continue
			}
			out = append(out, s)
			walk(s)
		}
	}
	walk((&cli{}).root())
	return out
}

func path(c *cobra.Command) []string {
	return strings.Fields(strings.TrimPrefix(c.CommandPath(), "shark "))
}

// Every command's --help, and "shark help COMMAND", exits 0 with the help on
// stdout: the command line, its flags with double dashes, nothing on stderr.
func TestHelpOnStdout(t *testing.T) {
	for _, c := range append(commands(), (&cli{}).root()) {
		args := append(path(c), "--help")
		if c.Name() == "shark" {
			args = []string{"--help"}
		}
		code, out, errOut := shark(t, args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errOut, out)
		}
		if regexp.MustCompile(`(?m)^\s+-[a-z][a-z-]+ `).MatchString(out) {
			t.Errorf("%v lists a flag with one dash:\n%s", args, out)
		}
		// The help is text, not a format: no escapes or verb errors show.
		if strings.Contains(out, "%%") || strings.Contains(out, "%!") || strings.Contains(out, "(default -1)") {
			t.Errorf("%v shows a format escape or a made-up default:\n%s", args, out)
		}
		if c.Name() != "shark" && c.Name() != "help" {
			code, out2, _ := shark(t, append([]string{"help"}, path(c)...)...)
			if code != 0 || out2 != out {
				t.Errorf("shark help %v differs from --help", path(c))
			}
		}
	}
}

// Defaults are shown where there are defaults, and only there.
func TestHelpDefaults(t *testing.T) {
	_, out, _ := shark(t, "quantize", "--help")
	for _, want := range []string{"--budget size", "(default 30%)", "--fp32 float", "--thresholds T32,T16,T8"} {
		if !strings.Contains(out, want) {
			t.Errorf("quantize --help lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(default [])") {
		t.Errorf("quantize --help shows an empty default:\n%s", out)
	}
}

// Usage mistakes exit 2 with the error once and the command's usage line.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"quantize", "in.npz", "-o", "x.shark", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"quantize", "in.npz", "-o", "x.shark", "--budget", "30"}, "write 30% for a share of the tables' fp32 bytes, or 30MB"},
		{[]string{"quantize", "in.npz", "-o", "x.shark", "--fp32", "nan"}, "not a finite number"},
		{[]string{"quantize", "in.npz"}, "-o/--output is required: the .shark file to write"},
		{[]string{"quantize", "in.npz", "-o", "x.shark", "--budgte", "30%"}, "unknown flag: --budgte (did you mean --budget?)"},
		{[]string{"export", "m.shark", "--to", "csv", "-o", "x"}, `--to "csv": want npz, safetensors or pt`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"bench", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"eval", "only-one-arg"}, "want MODEL DATA"},
	} {
		code, out, errOut := shark(t, tc.args...)
		if code != 2 || out != "" || strings.Count(errOut, tc.want) != 1 || strings.Count(errOut, "Usage: ") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q once with the usage line", tc.args, code, out, errOut, tc.want)
		}
	}
}

func TestVersionAndCompletion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if code, out, _ := shark(t, args...); code != 0 || !strings.HasPrefix(out, "shark ") || !strings.Contains(out, "kernels:") {
			t.Errorf("%v: %d %q", args, code, out)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if code, out, _ := shark(t, "completion", sh); code != 0 || !strings.Contains(out, "shark") || len(out) < 1000 {
			t.Errorf("completion %s: %d, %d bytes", sh, code, len(out))
		}
	}
}

func TestBudgetFlag(t *testing.T) {
	for in, want := range map[string][2]float64{"30%": {0.3, 0}, "1500B": {0, 1500}, "1.5MB": {0, 1.5e6}, "800KiB": {0, 800 << 10}, "2GiB": {0, 2 << 30}} {
		var b budget
		if err := b.Set(in); err != nil || b.share != want[0] || float64(b.bytes) != want[1] {
			t.Errorf("%s: %+v %v", in, b, err)
		}
	}
	for _, bad := range []string{"", "-3%", "abc", "0", "30", "12XB", "0MB", "nan%"} {
		var b budget
		if err := b.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The README's command list names every command, as its help does.
func TestREADMEListsEveryCommand(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, c := range commands() {
		if c.HasSubCommands() {
			continue
		}
		if name := "shark " + strings.Join(path(c), " "); !strings.Contains(readme, "`"+name) {
			// experiment's kinds are listed together.
			if !strings.HasPrefix(name, "shark experiment ") || !strings.Contains(readme, "`shark experiment taylor\\|ablation\\|sweep") {
				t.Errorf("README.md does not list %q", name)
			}
		}
		if !strings.Contains(readme, c.Short) && c.Parent().Name() == "shark" {
			t.Errorf("README.md does not describe %s as its help does: %q", c.Name(), c.Short)
		}
	}
}
