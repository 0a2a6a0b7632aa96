package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --block with no block tier allowed is refused by quantize and compress
// as a usage error naming it, before any file is read or written: it
// would be silently unused.
func TestBlockWithoutBlockTiersRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.shark")
	for _, args := range [][]string{
		{"quantize", ncf, "-o", out, "--block", "16"},
		{"quantize", ncf, "-o", out, "--block", "16", "--tiers", "fp32,fp16,int8,int4,int2"},
		{"compress", "model.shark", "data.tsv", "-o", out, "--block", "32"},
		{"compress", "model.shark", "data.tsv", "-o", out, "--block", "32", "--max-auc-drop", "0.001", "--no-int4"},
	} {
		code, stdout, stderr := shark(t, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "--block") || !strings.Contains(stderr, "none is allowed") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 naming --block", args, code, stdout, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("%v: wrote %s (%v)", args, out, err)
		}
	}
}
