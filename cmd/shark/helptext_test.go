package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// export --help names every operator the exported ONNX lookups use: a
// reader checking that their runtime has them reads the help, not the
// code. The list is read from the code that builds the graph.
func TestExportHelpNamesEveryONNXOp(t *testing.T) {
	src, err := os.ReadFile("../../formats/onnx/lookup.go")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, m := range regexp.MustCompile(`\b(?:op|opA|node)\("([A-Z][A-Za-z]+)"`).FindAllSubmatch(src, -1) {
		if op := string(m[1]); !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	if len(ops) < 10 {
		t.Fatalf("found only %v in lookup.go", ops)
	}
	_, help, _ := shark(t, "export", "--help")
	help = strings.Join(strings.Fields(help), " ")
	for _, op := range ops {
		if !regexp.MustCompile(`\b` + op + `\b`).MatchString(help) {
			t.Errorf("export --help does not name %s (the lookups use %v)", op, ops)
		}
	}
	for _, tier := range []string{"int2", "int8-block", "int4-block", "int2-block"} {
		if !strings.Contains(help, tier) {
			t.Errorf("export --help does not name %s", tier)
		}
	}
}

// The help of the commands that show tiers fits 80 columns, and
// quantize's says what its --json and its fixed fractions can and cannot
// do with the later tiers.
func TestTierHelpTexts(t *testing.T) {
	for _, cmd := range []string{"quantize", "export", "inspect", "verify"} {
		_, help, _ := shark(t, cmd, "--help")
		long, _, _ := strings.Cut(help, "\nUsage:")
		for _, l := range strings.Split(long, "\n") {
			if len([]rune(l)) > 80 {
				t.Errorf("%s --help: a line of %d columns: %q", cmd, len([]rune(l)), l)
			}
		}
	}
	_, help, _ := shark(t, "quantize", "--help")
	help = strings.Join(strings.Fields(help), " ")
	for _, want := range []string{
		"block (the rows per block, when a block tier is allowed)",
		"there is no --int2 or block-tier fraction; only a budget reaches those tiers",
		"every one of the default tiers and no other, so --tiers is refused with thresholds",
		"(64; 0 means 64)",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("quantize --help lacks %q", want)
		}
	}
}
