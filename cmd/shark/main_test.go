package main

import (
	"bytes"
	"os"
	"testing"
)

func shark(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

const ncf = "../../../shared/data/ncf-ml1m-mlp.npz"

func needNCF(t *testing.T) {
	if _, err := os.Stat(ncf); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}
