package main

import (
	"bytes"
	"testing"

	"shark/formats/formatstest"
)

func shark(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// realNCF is the real trained model; a clone without ../shared has none.
const realNCF = "../../../shared/data/ncf-ml1m-mlp.npz"

// ncf is realNCF, or a stand-in of its structure (internal/standin) that
// testsWithNCF writes when the real one is absent, so that the tests of
// commands, of JSON schemas and of files run from a clone alone.
var ncf = realNCF

// testsWithNCF runs the tests with ncf pointing at a model that exists.
func testsWithNCF(m *testing.M) int {
	return formatstest.RunWithNCF(m, realNCF, &ncf)
}
